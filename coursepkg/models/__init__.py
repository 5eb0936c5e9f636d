"""Composite models of the later chapters, built from :mod:`coursepkg.nn` modules."""

from .autoencoder import (
    ActivityPenalty,
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
from .hopfield import HopfieldNetwork, flip, overlap, random_patterns
from .neat import (
    CPPN_ACTIVATIONS,
    NEAT,
    ConnectionGene,
    FeedForwardNetwork,
    Genome,
    InnovationTracker,
    NEATConfig,
    NodeGene,
    Species,
    add_connection,
    add_node,
    allot_offspring,
    compatibility_distance,
    crossover,
    draw_cppn,
    draw_genome,
    genome_layout,
    mutate,
    mutate_weights,
    random_cppn,
    solves_xor,
    xor_fitness,
)
from .neuroevolution import (
    Evolution,
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
    shift_offsets,
)
from .rbm import DBN, RBM, all_binary_states, train_rbm
from .recursive import (
    SENTIMENT_VOCAB,
    ModularNet,
    RecursiveNet,
    TreeBatch,
    TreeClassifier,
    as_tree_batch,
    phrase_text,
    sentiment_phrases,
)
from .seq2seq import Seq2Seq
from .sparse_coding import (
    SparseCoding,
    ista_step,
    lipschitz_constant,
    normalize_columns,
    soft_threshold,
    sparse_code,
    sparse_coding_objective,
)
from .spiking import (
    IZHIKEVICH_PRESETS,
    IzhikevichNeuron,
    LIFNeuron,
    SpikeRecord,
    SpikingNeuron,
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
    "pretrain_stack", "ActivityPenalty", "HopfieldNetwork", "flip", "overlap", "random_patterns", "RBM", "DBN",
    "train_rbm", "all_binary_states", "SparseCoding", "sparse_code",
    "ista_step", "soft_threshold", "lipschitz_constant", "normalize_columns", "sparse_coding_objective",
    # chapter 14
    "GAN", "ConditionalGAN", "discriminator_loss", "generator_loss", "optimal_discriminator",
    # chapter 15
    "NEAT", "NEATConfig", "Genome", "NodeGene", "ConnectionGene", "Species", "InnovationTracker", "FeedForwardNetwork",
    "compatibility_distance", "crossover", "mutate", "mutate_weights", "add_node", "add_connection",
    "allot_offspring", "genome_layout", "xor_fitness", "solves_xor",
    "CPPN_ACTIVATIONS", "random_cppn", "draw_cppn", "draw_genome", "PopulationMLP", "Evolution", "evolve",
    "accuracy_fitness", "neg_cross_entropy_fitness", "tournament_selection", "truncation_selection",
    "uniform_crossover", "one_point_crossover", "gaussian_mutation", "cosyne_permute",
    # chapter 16
    "NTM", "HeadParameters", "MaskedBCEWithLogitsLoss", "bit_error_rate", "copy_bits", "Addressing", "CircularShift",
    "ContentAddressing", "Interpolation", "MemoryRead", "MemoryWrite", "Sharpening", "content_weights", "shift_offsets",
    "ModularNet", "RecursiveNet", "TreeBatch", "TreeClassifier", "as_tree_batch", "sentiment_phrases", "phrase_text",
    "SENTIMENT_VOCAB",
    "IZHIKEVICH_PRESETS", "IzhikevichNeuron", "LIFNeuron", "SpikeRecord", "SpikingNeuron", "firing_rate_curve",
    "izhikevich_population", "lif_step", "poisson_spike_train", "rate_code", "stdp_window",
]
