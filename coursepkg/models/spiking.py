"""Spiking neurons simulated in time: leaky integrate-and-fire, Izhikevich, Poisson spike trains.

Units throughout: time in milliseconds (ms), membrane potential in millivolts (mV), input current
in nanoamperes (nA), resistance in megaohms (MΩ, so R·I is in mV), firing rates in hertz (Hz).

A simulation advances every neuron together with the forward Euler method and a fixed time step
``dt`` (0.1 ms by default): ``V(t + dt) = V(t) + dt · dV/dt``. Its error per unit of time shrinks
in proportion to ``dt``; a spike is registered at the first step where ``V`` reaches the threshold,
so spike times are multiples of ``dt``. The loop runs over time steps only: the state of a whole
population (any array shape, e.g. ``(trials, neurons)``) is updated at once.

Unlike the trained networks of the package (float32 by default), simulations run in float64:
thousands of small Euler increments are summed into each membrane potential, and the analytic
firing rates they are compared with are exact to far more than float32's 7 digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError, as_float_array, check_finite, check_positive
from ..init import make_rng


# ------------------------------------------------------------------------------- the recording
@dataclass
class SpikeRecord:
    """What a simulation returns.

    ``t``: the times of the recorded steps, shape ``(steps,)`` (ms, starting at ``dt``);
    ``v``: the membrane potential after every step, shape ``(steps, *neurons)`` (mV; after a spike
    it shows the reset value, the spike itself is in ``spikes``); ``spikes``: a boolean raster of
    the same shape, True where the neuron fired during that step; ``dt`` the time step.
    """

    t: np.ndarray
    v: np.ndarray
    spikes: np.ndarray
    dt: float

    @property
    def duration(self) -> float:
        """Simulated time in ms."""
        return len(self.t) * self.dt

    def spike_times(self, index=()) -> np.ndarray:
        """Spike times (ms) of one neuron, ``index`` into the neuron axes (``()`` for a single neuron)."""
        column = self.spikes[(slice(None),) + np.index_exp[index]]
        if column.ndim != 1:
            raise ShapeError(f"SpikeRecord.spike_times: index {index!r} must select one neuron of the "
                             f"population of shape {self.spikes.shape[1:]}.")
        return self.t[column]

    def rates(self) -> np.ndarray:
        """Mean firing rate of every neuron, spikes counted over the whole run: ``count / duration`` (Hz)."""
        return self.spikes.sum(axis=0) * 1000.0 / self.duration

    def steady_rates(self) -> np.ndarray:
        """Firing rate of every neuron from its interspike intervals, ``1 / mean ISI`` (Hz), which leaves
        out the transient before the first spike; 0 for a neuron with fewer than two spikes."""
        steps = np.arange(1, len(self.t) + 1).reshape((-1,) + (1,) * (self.spikes.ndim - 1))
        count = self.spikes.sum(axis=0)
        first = np.where(self.spikes, steps, np.iinfo(np.int64).max).min(axis=0)
        last = np.where(self.spikes, steps, 0).max(axis=0)
        mean_isi = (last - first) * self.dt / np.maximum(count - 1, 1)
        return np.where(count >= 2, 1000.0 / np.where(count >= 2, mean_isi, 1.0), 0.0)

    def isi(self, index=()) -> np.ndarray:
        """Interspike intervals (ms) of one neuron: the differences of its spike times."""
        return np.diff(self.spike_times(index))


def _check_dt(dt, who: str) -> float:
    check_positive(dt, who, "dt (the time step in ms)")
    if dt > 1.0:
        raise ValueError(f"{who}: dt = {dt} ms is too coarse for Euler integration of a membrane; use "
                         "dt ≤ 1 ms (0.1 ms is a good default).")
    return float(dt)


def _current_schedule(current, duration, dt: float, who: str) -> np.ndarray:
    """The input current, one row per time step.

    With ``duration`` given, ``current`` is constant, one value per neuron; without it, ``current``
    has a leading time axis of one row per step.
    """
    current = as_float_array(current, who, np.float64)
    check_finite(current, who, "current")
    if duration is None:
        if current.ndim == 0:
            raise ShapeError(f"{who}: without a duration, current needs a leading time axis (steps, ...), "
                             "received a scalar. Pass duration=... for a constant current.")
        return current
    return np.broadcast_to(current, (_n_steps(duration, dt, who),) + current.shape)


def _n_steps(duration, dt: float, who: str) -> int:
    """The number of time steps of width ``dt`` in ``duration`` (ms); at least one."""
    check_positive(duration, who, "duration (ms)")
    steps = int(round(duration / dt))
    if steps < 1:
        raise ValueError(f"{who}: duration {duration} ms is shorter than one time step dt = {dt} ms.")
    return steps


class SpikingNeuron:
    """Base class: a population of neurons whose state is advanced by one Euler step at a time.

    Subclasses implement ``initial_state(shape)`` (a dict of arrays) and
    ``step(state, I, dt) -> spiked`` (update ``state`` in place, return the boolean spikes);
    ``state["v"]`` is the membrane potential.
    """

    def initial_state(self, shape: tuple) -> dict:
        """The state of a population of ``shape`` at t = 0 (a dict of arrays, ``"v"`` among them)."""
        raise NotImplementedError

    def step(self, state: dict, current: np.ndarray, dt: float) -> np.ndarray:
        """Advance ``state`` in place by ``dt`` ms with input ``current``; return where a spike occurred."""
        raise NotImplementedError

    def simulate(self, current, duration: float | None = None, dt: float = 0.1) -> SpikeRecord:
        """Integrate the population for ``duration`` ms with a constant ``current`` (nA, one value per
        neuron, any shape), or, with ``duration=None``, for as many steps as ``current`` has rows
        (shape ``(steps, *neurons)``, a time-varying input). Returns a :class:`SpikeRecord`."""
        who = f"{type(self).__name__}.simulate"
        dt = _check_dt(dt, who)
        schedule = _current_schedule(current, duration, dt, who)
        shape = np.broadcast_shapes(schedule.shape[1:], self.shape)
        state = self.initial_state(shape)
        v = np.empty((len(schedule),) + shape)
        spikes = np.empty((len(schedule),) + shape, dtype=bool)
        for k, current_k in enumerate(schedule):
            spikes[k] = self.step(state, current_k, dt)
            v[k] = state["v"]
        return SpikeRecord(dt * np.arange(1, len(schedule) + 1), v, spikes, dt)

    @property
    def shape(self) -> tuple:
        """The population shape implied by the (possibly per-neuron) parameters."""
        return ()


# --------------------------------------------------------------------- leaky integrate-and-fire
def lif_step(v, current, dt: float = 0.1, tau: float = 10.0, resistance: float = 10.0,
             v_rest: float = -65.0, v_reset: float = -65.0, v_threshold: float = -50.0):
    """One Euler step of leaky integrate-and-fire neurons, with threshold and reset (no refractory period).

        τ_m dV/dt = −(V − V_rest) + R I      ⇒   V ← V + (dt/τ_m) (−(V − V_rest) + R I)
        if V ≥ θ:  a spike, and V ← V_reset

    ``v`` and ``current`` are arrays of the same (or broadcastable) shape, one entry per neuron.
    Returns ``(v_new, spiked)``: the new potentials (reset where a spike happened) and a boolean array.
    """
    v_new = v + (dt / tau) * (-(v - v_rest) + resistance * current)
    spiked = v_new >= v_threshold
    return np.where(spiked, v_reset, v_new), spiked


@dataclass
class LIFNeuron(SpikingNeuron):
    """Leaky integrate-and-fire neurons: an RC circuit (leak) charged by the input, with a threshold.

        τ_m dV/dt = −(V − V_rest) + R I(t)
        V ≥ θ  ⇒  spike, V ← V_reset, and V is held at V_reset for the refractory period t_ref.

    ``tau`` (τ_m = RC, ms), ``resistance`` (R, MΩ), ``v_rest``, ``v_reset``, ``v_threshold`` (θ, mV),
    ``refractory`` (t_ref, ms). Each may be an array (one value per neuron). The defaults are a
    typical cortical cell: τ_m = 10 ms, R = 10 MΩ, V_rest = V_reset = −65 mV, θ = −50 mV, t_ref = 2 ms,
    so the rheobase (the smallest current that ever fires) is (θ − V_rest)/R = 1.5 nA.
    """

    tau: float = 10.0
    resistance: float = 10.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_threshold: float = -50.0
    refractory: float = 2.0

    def __post_init__(self):
        for name in ("tau", "resistance"):
            if not np.all(np.asarray(getattr(self, name)) > 0):
                raise ValueError(f"LIFNeuron: {name} must be positive, received {getattr(self, name)!r}.")
        if not np.all(np.asarray(self.refractory) >= 0):
            raise ValueError(f"LIFNeuron: refractory must be ≥ 0 ms, received {self.refractory!r}.")
        if not np.all(np.asarray(self.v_reset) < np.asarray(self.v_threshold)):
            raise ValueError(f"LIFNeuron: v_reset ({self.v_reset}) must lie below v_threshold "
                             f"({self.v_threshold}), or every step would be a spike.")

    @property
    def shape(self) -> tuple:
        return np.broadcast_shapes(*(np.shape(getattr(self, name)) for name in
                                     ("tau", "resistance", "v_rest", "v_reset", "v_threshold", "refractory")))

    @property
    def rheobase(self):
        """The smallest constant current that makes the neuron fire: I_rh = (θ − V_rest) / R (nA)."""
        return (np.asarray(self.v_threshold) - self.v_rest) / self.resistance

    def initial_state(self, shape):
        """At rest (V = V_rest) and not refractory."""
        return {"v": np.broadcast_to(np.asarray(self.v_rest, dtype=np.float64), shape).copy(),
                "refractory_left": np.zeros(shape)}

    def step(self, state, current, dt):
        """One Euler step (:func:`lif_step`); neurons still refractory stay at V_reset and cannot fire."""
        v_new, spiked = lif_step(state["v"], current, dt, self.tau, self.resistance, self.v_rest,
                                 self.v_reset, self.v_threshold)
        resting = state["refractory_left"] > dt / 2  # still refractory: clamped at the reset value
        spiked &= ~resting
        state["v"] = np.where(resting, self.v_reset, v_new)
        state["refractory_left"] = np.where(spiked, self.refractory, np.maximum(state["refractory_left"] - dt, 0))
        return spiked

    def interspike_interval(self, current):
        """Analytic interspike interval for a constant current (ms); ``inf`` at or below the rheobase.

        Between spikes V relaxes towards V_∞ = V_rest + R I:  V(t) = V_∞ + (V_reset − V_∞) e^{−t/τ_m}.
        Solving V(T) = θ gives the time to climb from the reset to the threshold,

            T = τ_m ln((V_∞ − V_reset) / (V_∞ − θ)),   and the ISI is t_ref + T.

        With V_reset = V_rest this is τ_m ln(R I / (R I − (θ − V_rest))) + t_ref.
        """
        current = as_float_array(current, "LIFNeuron.interspike_interval", np.float64)
        v_inf = self.v_rest + self.resistance * current
        fires = v_inf > self.v_threshold
        ratio = np.where(fires, (v_inf - self.v_reset) / np.where(fires, v_inf - self.v_threshold, 1.0), 1.0)
        return np.where(fires, self.refractory + self.tau * np.log(ratio), np.inf)

    def firing_rate(self, current):
        """Analytic steady firing rate for a constant current, f(I) = 1000 / ISI(I) Hz (0 below the rheobase)."""
        return 1000.0 / self.interspike_interval(current)


# --------------------------------------------------------------------------------- Izhikevich
#: (a, b, c, d) of Izhikevich (2003), "Simple model of spiking neurons", Fig. 2.
IZHIKEVICH_PRESETS = {
    "regular_spiking": (0.02, 0.2, -65.0, 8.0),
    "intrinsically_bursting": (0.02, 0.2, -55.0, 4.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "fast_spiking": (0.1, 0.2, -65.0, 2.0),
    "low_threshold_spiking": (0.02, 0.25, -65.0, 2.0),
    "thalamo_cortical": (0.02, 0.25, -65.0, 0.05),
    "resonator": (0.1, 0.26, -65.0, 2.0),
}


@dataclass
class IzhikevichNeuron(SpikingNeuron):
    """The Izhikevich model: two variables, four parameters, most firing patterns of cortical cells.

        dv/dt = 0.04 v² + 5 v + 140 − u + I        (v in mV, t in ms)
        du/dt = a (b v − u)
        v ≥ 30 mV  ⇒  spike, v ← c, u ← u + d

    ``u`` is a recovery variable (potassium currents): each spike raises it by ``d``, and it decays
    with rate ``a``; ``b`` couples it to ``v``. ``a, b, c, d`` may be arrays, one value per neuron, so
    a whole gallery of cell types is one population (see :meth:`preset` and :func:`izhikevich_population`).
    The input ``I`` is in the model's own dimensionless units (≈ 10 makes a regular-spiking cell fire).
    """

    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 8.0
    v_peak: float = 30.0

    def __post_init__(self):
        if not np.all(np.asarray(self.a) > 0):
            raise ValueError(f"IzhikevichNeuron: a (the recovery rate) must be positive, received {self.a!r}.")
        if not np.all(np.asarray(self.c) < self.v_peak):
            raise ValueError(f"IzhikevichNeuron: the reset c ({self.c}) must lie below the spike peak v_peak "
                             f"({self.v_peak}), or every step would be a spike.")

    @classmethod
    def preset(cls, name: str) -> IzhikevichNeuron:
        """A cell type by name: one of ``IZHIKEVICH_PRESETS`` (regular_spiking, fast_spiking, …)."""
        if name not in IZHIKEVICH_PRESETS:
            raise ValueError(f"IzhikevichNeuron.preset: unknown cell type {name!r}; choose one of "
                             f"{sorted(IZHIKEVICH_PRESETS)}.")
        return cls(*IZHIKEVICH_PRESETS[name])

    @property
    def shape(self) -> tuple:
        return np.broadcast_shapes(*(np.shape(getattr(self, name)) for name in "abcd"))

    def initial_state(self, shape):
        """Start at rest: the stable fixed point for I = 0, where u = b v and 0.04 v² + (5 − b) v + 140 = 0
        (its lower root); −65 mV when ``b`` is too large for a fixed point to exist."""
        b = np.broadcast_to(np.asarray(self.b, dtype=np.float64), shape)
        disc = (5 - b) ** 2 - 4 * 0.04 * 140
        v = np.where(disc >= 0, (-(5 - b) - np.sqrt(np.maximum(disc, 0))) / 0.08, -65.0)
        return {"v": v, "u": b * v}

    def step(self, state, current, dt):
        """One Euler step of both equations (each from the old v and u), then the reset where v ≥ v_peak."""
        v, u = state["v"], state["u"]
        v_new = v + dt * (0.04 * v * v + 5 * v + 140 - u + current)
        u_new = u + dt * self.a * (self.b * v - u)
        spiked = v_new >= self.v_peak
        state["v"] = np.where(spiked, self.c, v_new)
        state["u"] = np.where(spiked, u_new + self.d, u_new)
        return spiked


def izhikevich_population(names) -> IzhikevichNeuron:
    """One population with a neuron of each named preset, in order: parameters of shape ``(len(names),)``."""
    cells = [IzhikevichNeuron.preset(name) for name in names]
    return IzhikevichNeuron(*(np.array([getattr(cell, p) for cell in cells]) for p in "abcd"))


# ----------------------------------------------------------------------- rates and spike trains
def poisson_spike_train(rates, duration: float, dt: float = 1.0, rng=None) -> np.ndarray:
    """Independent Poisson spike trains: a boolean raster of shape ``(steps, *rates.shape)``.

    In each bin of width ``dt`` a neuron with rate r (Hz) fires with probability p = r·dt/1000 (the
    Bernoulli approximation of a Poisson process, accurate when p ≪ 1). The count in a window of
    length T is then ≈ Poisson with mean and variance r·T/1000.
    """
    who = "poisson_spike_train"
    rates = as_float_array(rates, who, np.float64)
    check_finite(rates, who, "rates")
    check_positive(dt, who, "dt (the bin width in ms)")  # bounded by rate × dt ≤ 1 below, not by Euler's limit
    if np.any(rates < 0):
        raise ValueError(f"{who}: rates must be ≥ 0 Hz, received a minimum of {rates.min()}.")
    p = rates * dt / 1000.0
    if np.any(p > 1):
        raise ValueError(f"{who}: rate × dt = {p.max():.3g} spikes per bin exceeds 1; use a smaller dt "
                         f"(below {1000.0 / rates.max():.3g} ms for a rate of {rates.max():.3g} Hz).")
    return make_rng(rng).random((_n_steps(duration, dt, who),) + rates.shape) < p


def rate_code(values, max_rate: float = 100.0, duration: float = 100.0, dt: float = 1.0, rng=None) -> np.ndarray:
    """Rate coding: each value in [0, 1] (e.g. a pixel intensity) becomes a Poisson spike train of
    rate ``value · max_rate`` Hz. Returns the raster ``(steps, *values.shape)``."""
    values = as_float_array(values, "rate_code", np.float64)
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(f"rate_code: values must lie in [0, 1], received [{values.min()}, {values.max()}]; "
                         "scale them first, e.g. x / x.max().")
    check_positive(max_rate, "rate_code", "max_rate (Hz)")
    return poisson_spike_train(values * max_rate, duration, dt, rng)


def firing_rate_curve(neuron: SpikingNeuron, currents, duration: float = 1000.0, dt: float = 0.1) -> np.ndarray:
    """The f–I curve: the steady firing rate (Hz, from interspike intervals) of ``neuron`` for each
    constant current in ``currents``, all simulated at once as one population."""
    return neuron.simulate(np.asarray(currents, dtype=np.float64), duration, dt).steady_rates()


def stdp_window(delta_t, a_plus: float = 0.01, a_minus: float = 0.012, tau_plus: float = 20.0,
                tau_minus: float = 20.0) -> np.ndarray:
    """Pair-based spike-timing-dependent plasticity: the weight change for Δt = t_post − t_pre (ms).

        Δw = A₊ e^{−Δt/τ₊}   if Δt > 0   (pre before post: potentiation)
        Δw = −A₋ e^{Δt/τ₋}   if Δt < 0   (post before pre: depression),   0 at Δt = 0.
    """
    delta_t = as_float_array(delta_t, "stdp_window", np.float64)
    for name, value in (("a_plus", a_plus), ("a_minus", a_minus), ("tau_plus", tau_plus), ("tau_minus", tau_minus)):
        check_positive(value, "stdp_window", name)
    return np.where(delta_t > 0, a_plus * np.exp(-np.abs(delta_t) / tau_plus),
                    np.where(delta_t < 0, -a_minus * np.exp(-np.abs(delta_t) / tau_minus), 0.0))
