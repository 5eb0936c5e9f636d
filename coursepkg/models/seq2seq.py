"""A small encoder-decoder (sequence-to-sequence) model with attention.

The encoder reads the source sequence and keeps all its hidden states ``k_1 … k_S``; its final
state starts the decoder. The decoder reads the target sequence shifted right by one (a start
token first: *teacher forcing*) and, at every step ``t``, attends over the encoder states with
its own state ``s_t`` as the query, so each output is predicted from ``[s_t ; context_t]``:

    k_1 … k_S      = Encoder(embed(x_1 … x_S))
    s_1 … s_T      = Decoder(embed(<start>, y_1 … y_{T−1}),  h0 = encoder's last state)
    context_t      = Σ_j α_tj k_j,      α_t = softmax_j(score(s_t, k_j))
    logits_t       = [s_t ; context_t] W + b

Attention sits on top of the decoder ("Luong" style) rather than feeding the context back into
the decoder's input ("Bahdanau" style, which the additive score was introduced with); that way
the decoder runs over the whole target in one vectorized call during training. Without
attention (``attention=None``) the encoder's final state is the decoder's only view of the
source: the bottleneck attention was invented to remove.

Backward follows the same graph in reverse: the attention sends gradients to the decoder
states (queries) and the encoder states (keys/values); the decoder's ``grad_h0`` enters the
encoder as the gradient of its last state.
"""

from __future__ import annotations

import numpy as np

from ..init import make_rng
from ..nn.attention import AdditiveAttention, DotAttention
from ..nn.embedding import Embedding, as_token_ids
from ..nn.linear import Dense
from ..nn.losses import CrossEntropyLoss
from ..nn.module import DEFAULT_DTYPE, Module
from ..nn.recurrent import GRU, LSTM, RNN, TimeDistributed

_CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class Seq2Seq(Module):
    """Encoder-decoder over token ids with optional attention.

    Parameters
    ----------
    src_vocab, tgt_vocab : vocabulary sizes of the source and target tokens.
    hidden : size of the encoder and decoder states; ``embed_dim``: size of the token embeddings.
    cell : ``"lstm"`` (default), ``"gru"`` or ``"rnn"``.
    attention : ``"dot"`` (:class:`~coursepkg.nn.DotAttention`), ``"additive"``
        (:class:`~coursepkg.nn.AdditiveAttention`) or ``None``.

    ``forward(src, tgt_in)`` takes ids ``(batch, S)`` and ``(batch, T)`` and returns logits
    ``(batch, T, tgt_vocab)``; ``backward(∂C/∂logits)`` fills every gradient. ``train_batch`` does
    one step of cross-entropy training, ``generate`` decodes greedily and records the attention
    weights in ``self.attention_weights`` (``(batch, T, S)``) for a heat map.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, hidden: int = 64, embed_dim: int = 16,
                 cell: str = "lstm", attention: str | None = "dot", rng=None, dtype=DEFAULT_DTYPE):
        if cell not in _CELLS:
            raise ValueError(f"Seq2Seq: cell must be one of {sorted(_CELLS)}, received {cell!r}.")
        if attention not in ("dot", "additive", None):
            raise ValueError(f"Seq2Seq: attention must be 'dot', 'additive' or None, received {attention!r}.")
        rng = make_rng(rng)
        Cell = _CELLS[cell]
        self.src_vocab, self.tgt_vocab = int(src_vocab), int(tgt_vocab)
        self.src_embed = Embedding(src_vocab, embed_dim, rng=rng, dtype=dtype)
        self.encoder = Cell(embed_dim, hidden, rng=rng, dtype=dtype)
        self.tgt_embed = Embedding(tgt_vocab, embed_dim, rng=rng, dtype=dtype)
        self.decoder = Cell(embed_dim, hidden, rng=rng, dtype=dtype)
        if attention == "dot":
            self.attention = DotAttention()
        elif attention == "additive":
            self.attention = AdditiveAttention(hidden, hidden, hidden, rng=rng, dtype=dtype)
        else:
            self.attention = None
        n_features = 2 * hidden if self.attention is not None else hidden
        self.out = TimeDistributed(Dense(n_features, tgt_vocab, init="xavier", rng=rng, dtype=dtype))
        self.attention_weights = None
        self._loss = CrossEntropyLoss()
        self._enc_shape = None

    def _decode(self, tgt_in, enc, state):
        dec = self.decoder.forward(self.tgt_embed.forward(tgt_in), h0=state)
        if self.attention is None:
            return self.out.forward(dec)
        context = self.attention.forward(dec, enc)
        return self.out.forward(np.concatenate([dec, context], axis=-1))

    def forward(self, src, tgt_in):
        enc = self.encoder.forward(self.src_embed.forward(src))
        self._enc_shape = enc.shape
        return self._decode(tgt_in, enc, self.encoder.last_state)

    def backward(self, grad_out):
        d = self.out.backward(grad_out)
        if self.attention is None:
            d_dec, d_enc = d, np.zeros(self._enc_shape, dtype=d.dtype)
        else:
            H = self.decoder.hidden
            d_dec, d_ctx = d[..., :H], d[..., H:]
            d_query, d_enc = self.attention.backward(d_ctx)
            d_dec = d_dec + d_query
        self.tgt_embed.backward(self.decoder.backward(d_dec))
        self.src_embed.backward(self.encoder.backward(d_enc, grad_last_state=self.decoder.grad_h0))
        return None

    def train_batch(self, src, tgt_in, tgt_out, optimizer) -> float:
        """One gradient step on the mean cross-entropy of the next-token predictions; returns it."""
        logits = self.forward(src, tgt_in)
        targets = as_token_ids(tgt_out, self.tgt_vocab, "Seq2Seq.train_batch")
        if targets.shape != logits.shape[:2]:
            raise ValueError(f"Seq2Seq.train_batch: tgt_out must have the shape of tgt_in {logits.shape[:2]}, "
                             f"received {targets.shape}.")
        self.zero_grad()
        cost = self._loss.forward(logits.reshape(-1, self.tgt_vocab), targets.reshape(-1))
        self.backward(self._loss.backward().reshape(logits.shape))
        optimizer.step()
        return cost

    def generate(self, src, start_id: int, length: int) -> np.ndarray:
        """Greedy decoding: feed ``start_id``, then each step's most likely token; ``(batch, length)`` ids."""
        enc = self.encoder.forward(self.src_embed.forward(src))
        state = self.encoder.last_state
        token = np.full((len(enc), 1), int(start_id))
        out = np.empty((len(enc), int(length)), dtype=np.int64)
        weights = []
        for t in range(int(length)):
            logits = self._decode(token, enc, state)
            state = self.decoder.last_state
            if self.attention is not None:
                weights.append(self.attention.weights[:, 0])
            token = logits[:, -1].argmax(axis=-1)[:, None]
            out[:, t] = token[:, 0]
        self.attention_weights = np.stack(weights, axis=1) if weights else None
        return out

    def extra_repr(self) -> str:
        return f"{self.src_vocab} → {self.tgt_vocab}"
