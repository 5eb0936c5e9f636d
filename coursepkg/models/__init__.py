"""Composite models of the later chapters, built from :mod:`coursepkg.nn` modules."""

from .autoencoder import (
    Autoencoder,
    ContractivePenalty,
    Corruption,
    SparsityPenalty,
    TiedDense,
    corrupt,
    dense_autoencoder,
    pretrain_stack,
)
from .gan import GAN, ConditionalGAN, discriminator_loss, generator_loss, optimal_discriminator
from .neat import (
    CPPN_ACTIVATIONS,
    NEAT,
    FeedForwardNetwork,
    Genome,
    InnovationTracker,
    NEATConfig,
    compatibility_distance,
    draw_cppn,
    draw_genome,
    random_cppn,
)
from .neuroevolution import (
    PopulationMLP,
    accuracy_fitness,
    cosyne_permute,
    evolve,
    gaussian_mutation,
    neg_cross_entropy_fitness,
    one_point_crossover,
    tournament_selection,
    truncation_selection,
    uniform_crossover,
)
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
from .rbm import DBN, RBM, train_rbm
from .recursive import ModularNet, RecursiveNet, TreeBatch, TreeClassifier, sentiment_phrases
from .seq2seq import Seq2Seq
from .sparse_coding import SparseCoding, ista_step, soft_threshold, sparse_code
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
    # chapter 13
    "Autoencoder", "TiedDense", "Corruption", "corrupt", "SparsityPenalty", "ContractivePenalty", "dense_autoencoder",
    "pretrain_stack", "RBM", "DBN", "train_rbm", "SparseCoding", "sparse_code", "ista_step", "soft_threshold",
    # chapter 14
    "GAN", "ConditionalGAN", "discriminator_loss", "generator_loss", "optimal_discriminator",
    # chapter 15
    "NEAT", "NEATConfig", "Genome", "InnovationTracker", "FeedForwardNetwork", "compatibility_distance",
    "CPPN_ACTIVATIONS", "random_cppn", "draw_cppn", "draw_genome", "PopulationMLP", "evolve", "accuracy_fitness",
    "neg_cross_entropy_fitness", "tournament_selection", "truncation_selection", "uniform_crossover",
    "one_point_crossover", "gaussian_mutation", "cosyne_permute",
    # chapter 16
    "NTM", "HeadParameters", "MaskedBCEWithLogitsLoss", "bit_error_rate", "copy_bits", "Addressing", "CircularShift",
    "ContentAddressing", "Interpolation", "MemoryRead", "MemoryWrite", "Sharpening", "content_weights",
    "ModularNet", "RecursiveNet", "TreeBatch", "TreeClassifier", "sentiment_phrases",
    "IZHIKEVICH_PRESETS", "IzhikevichNeuron", "LIFNeuron", "SpikeRecord", "firing_rate_curve",
    "izhikevich_population", "lif_step", "poisson_spike_train", "rate_code", "stdp_window",
]
