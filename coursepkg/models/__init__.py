"""Composite models of the later chapters, built from :mod:`coursepkg.nn` modules."""

from .gan import GAN, ConditionalGAN, discriminator_loss, generator_loss, optimal_discriminator
from .ntm import NTM, HeadParameters, MaskedBCEWithLogitsLoss, bit_error_rate, copy_bits
from .ntm_addressing import (
    Addressing,
    CircularShift,
    ContentAddressing,
    Interpolation,
    MemoryRead,
    MemoryWrite,
    Sharpening,
    content_weights,
)
from .recursive import ModularNet, RecursiveNet, TreeBatch, TreeClassifier, sentiment_phrases
from .seq2seq import Seq2Seq
from .spiking import (
    IZHIKEVICH_PRESETS,
    IzhikevichNeuron,
    LIFNeuron,
    SpikeRecord,
    firing_rate_curve,
    izhikevich_population,
    lif_step,
    poisson_spike_train,
    rate_code,
    stdp_window,
)

__all__ = [
    "Seq2Seq",
    # chapter 14
    "GAN", "ConditionalGAN", "discriminator_loss", "generator_loss", "optimal_discriminator",
    # chapter 16
    "NTM", "HeadParameters", "MaskedBCEWithLogitsLoss", "bit_error_rate", "copy_bits", "Addressing", "CircularShift",
    "ContentAddressing", "Interpolation", "MemoryRead", "MemoryWrite", "Sharpening", "content_weights",
    "ModularNet", "RecursiveNet", "TreeBatch", "TreeClassifier", "sentiment_phrases",
    "IZHIKEVICH_PRESETS", "IzhikevichNeuron", "LIFNeuron", "SpikeRecord", "firing_rate_curve",
    "izhikevich_population", "lif_step", "poisson_spike_train", "rate_code", "stdp_window",
]
