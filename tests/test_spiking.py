"""Spiking neurons: the LIF firing rate against its analytic formula, the rheobase, refractory
clamping, the Izhikevich cell types' firing patterns, Poisson statistics, rate coding, STDP and
the error messages."""

import numpy as np
import pytest

from coursepkg.errors import NonFiniteError, ShapeError
from coursepkg.models.spiking import (
    IZHIKEVICH_PRESETS,
    IzhikevichNeuron,
    LIFNeuron,
    firing_rate_curve,
    izhikevich_population,
    lif_step,
    poisson_spike_train,
    rate_code,
    stdp_window,
)


def test_lif_step_is_one_euler_step_with_reset():
    v = np.array([-65.0, -60.0, -50.2, -70.0])
    current = np.array([0.0, 1.0, 2.0, 0.0])
    v_new, spiked = lif_step(v, current, dt=0.5, tau=10.0, resistance=10.0)
    euler = v + 0.05 * (-(v + 65.0) + 10.0 * current)
    assert spiked.tolist() == [False, False, True, False]
    np.testing.assert_allclose(v_new, np.where(spiked, -65.0, euler))
    assert v_new[3] > -70.0  # below rest the leak pulls the potential up


def test_lif_rate_matches_the_analytic_formula():
    neuron = LIFNeuron()  # τ = 10 ms, R = 10 MΩ, θ − V_rest = 15 mV, t_ref = 2 ms
    currents = np.linspace(1.7, 6.0, 12)
    simulated = firing_rate_curve(neuron, currents, duration=400.0, dt=0.01)
    analytic = neuron.firing_rate(currents)
    # the hand formula τ ln(RI / (RI − (θ − V_rest))) + t_ref with V_reset = V_rest
    by_hand = 1000.0 / (10.0 * np.log(10 * currents / (10 * currents - 15.0)) + 2.0)
    np.testing.assert_allclose(analytic, by_hand, rtol=1e-12)
    # Euler with dt = 0.01 ms and spikes on the step grid: within 1 % (a step is ≲ 0.3 % of an ISI)
    np.testing.assert_allclose(simulated, analytic, rtol=0.01)
    assert np.all(np.diff(simulated) > 0)  # the f–I curve rises


def test_lif_interval_with_reset_below_rest():
    neuron = LIFNeuron(v_reset=-70.0, refractory=0.0)
    current = 3.0  # V_∞ = −35 mV
    expected = 10.0 * np.log((-35.0 + 70.0) / (-35.0 + 50.0))
    np.testing.assert_allclose(neuron.interspike_interval(current), expected)
    record = neuron.simulate(current, duration=200.0, dt=0.005)
    np.testing.assert_allclose(record.isi()[1:], expected, atol=0.01)


def test_no_spikes_at_or_below_rheobase():
    neuron = LIFNeuron()
    assert neuron.rheobase == pytest.approx(1.5)
    record = neuron.simulate(np.array([0.0, 1.0, 1.49, 1.5]), duration=500.0)
    assert record.spikes.sum() == 0
    assert np.all(neuron.firing_rate([1.0, 1.5]) == 0)
    # just below the rheobase the potential settles at V_rest + R I, under the threshold
    np.testing.assert_allclose(record.v[-1, 2], -65.0 + 14.9, atol=1e-3)
    assert firing_rate_curve(neuron, [1.6], duration=500.0)[0] > 0


def test_refractory_period_clamps_the_potential():
    neuron = LIFNeuron(refractory=5.0)
    record = neuron.simulate(4.0, duration=100.0, dt=0.1)
    first = np.flatnonzero(record.spikes)[0]
    assert np.all(record.v[first:first + 51] == -65.0)  # the spike step and 5 ms after it
    assert record.v[first + 51] > -65.0
    assert record.isi().min() >= 5.0


def test_population_and_trials_are_simulated_together():
    neuron = LIFNeuron(tau=np.array([5.0, 10.0, 20.0]))
    currents = np.full((4, 3), 3.0)  # 4 trials × 3 neurons
    record = neuron.simulate(currents, duration=100.0)
    assert record.v.shape == record.spikes.shape == (1000, 4, 3)
    rates = record.rates()
    assert np.all(rates == rates[0])  # deterministic: every trial the same
    assert rates[0, 0] > rates[0, 1] > rates[0, 2]  # a faster membrane fires more
    single = LIFNeuron(tau=5.0).simulate(3.0, duration=100.0)
    np.testing.assert_array_equal(single.spikes, record.spikes[:, 0, 0])
    np.testing.assert_allclose(single.spike_times(), record.spike_times((0, 0)))


def test_time_varying_current():
    steps = 2000
    current = np.zeros((steps, 2))
    current[steps // 2:] = 3.0  # a step of current half way
    record = LIFNeuron().simulate(current, dt=0.1)
    assert record.spikes[: steps // 2].sum() == 0
    assert record.spikes[steps // 2:, 0].sum() > 5
    assert record.duration == pytest.approx(200.0)


def _presets(current=10.0, duration=1000.0):
    names = list(IZHIKEVICH_PRESETS)
    record = izhikevich_population(names).simulate(current, duration=duration, dt=0.1)
    return names, record


def test_izhikevich_fast_spiking_fires_more_than_regular_spiking():
    names, record = _presets()
    rates = dict(zip(names, record.rates()))
    assert rates["fast_spiking"] > 3 * rates["regular_spiking"] > 0
    # a single neuron built from the preset gives the same raster as the population's row
    alone = IzhikevichNeuron.preset("fast_spiking").simulate(10.0, duration=1000.0, dt=0.1)
    np.testing.assert_array_equal(alone.spikes, record.spikes[:, names.index("fast_spiking")])


def test_izhikevich_regular_spiking_adapts():
    names, record = _presets()
    isi = record.isi(names.index("regular_spiking"))
    assert isi[-1] > 1.5 * isi[0]  # the interval lengthens: spike-frequency adaptation
    assert np.std(isi[3:]) < 0.05 * np.mean(isi[3:])  # then a steady rhythm


def test_izhikevich_bursting_cells_alternate_short_and_long_intervals():
    names, record = _presets()
    burst_isi = record.isi(names.index("intrinsically_bursting"))
    assert burst_isi[0] < 6 and burst_isi[2] > 5 * burst_isi[0]  # a burst at onset, then single spikes
    chatter = record.isi(names.index("chattering"))
    short, long_ = chatter < 6, chatter > 20
    assert short.sum() > 2 * long_.sum() > 0  # bursts of several fast spikes separated by pauses
    assert short.sum() + long_.sum() == len(chatter)


def test_izhikevich_is_silent_without_input():
    _, record = _presets(current=0.0, duration=300.0)
    assert record.spikes.sum() == 0


def test_poisson_rate_within_statistical_bounds():
    rate, duration, n = 40.0, 1000.0, 2000
    counts = poisson_spike_train(np.full(n, rate), duration, dt=1.0, rng=0).sum(axis=0)
    mean = rate * duration / 1000.0
    # the mean of n counts has standard deviation ≈ sqrt(mean / n): allow 5 of them
    assert abs(counts.mean() - mean) < 5 * np.sqrt(mean / n)
    # Fano factor ≈ 1 − p for Bernoulli bins (p = 0.04)
    assert counts.var() / counts.mean() == pytest.approx(0.96, abs=0.1)
    again = poisson_spike_train(np.full(n, rate), duration, dt=1.0, rng=0)
    assert again.sum() == counts.sum()


def test_rate_code_follows_intensity():
    image = np.linspace(0, 1, 50).reshape(5, 10)
    raster = rate_code(image, max_rate=200.0, duration=2000.0, dt=0.5, rng=1)
    assert raster.shape == (4000, 5, 10)
    rates = raster.sum(axis=0) / 2.0
    assert rates[0, 0] == 0
    assert np.corrcoef(rates.ravel(), image.ravel() * 200)[0, 1] > 0.95


def test_stdp_window_signs():
    dts = np.array([-40.0, -5.0, 0.0, 5.0, 40.0])
    dw = stdp_window(dts)
    assert dw[2] == 0 and dw[3] > dw[4] > 0 and dw[0] < 0 and dw[1] < dw[0]
    np.testing.assert_allclose(dw[3], 0.01 * np.exp(-5 / 20))


def test_errors_name_the_function_and_the_fix():
    neuron = LIFNeuron()
    with pytest.raises(ValueError, match="LIFNeuron.*dt"):
        neuron.simulate(2.0, duration=10.0, dt=5.0)
    with pytest.raises(ShapeError, match="LIFNeuron.simulate.*duration"):
        neuron.simulate(2.0)
    with pytest.raises(NonFiniteError, match="LIFNeuron.simulate"):
        neuron.simulate([2.0, np.nan], duration=10.0)
    with pytest.raises(ValueError, match="v_reset"):
        LIFNeuron(v_reset=-40.0)
    with pytest.raises(ValueError, match="LIFNeuron: tau"):
        LIFNeuron(tau=0.0)
    with pytest.raises(ValueError, match="IzhikevichNeuron: the reset c"):
        IzhikevichNeuron(c=40.0)
    with pytest.raises(ValueError, match="IzhikevichNeuron: a"):
        IzhikevichNeuron(a=np.array([0.02, -0.1]))
    with pytest.raises(ValueError, match="regular_spiking"):
        IzhikevichNeuron.preset("regular")
    with pytest.raises(ValueError, match="poisson_spike_train.*smaller dt"):
        poisson_spike_train([2000.0], 100.0, dt=1.0)
    with pytest.raises(ValueError, match="poisson_spike_train: rates"):
        poisson_spike_train([-1.0], 100.0)
    with pytest.raises(ValueError, match="rate_code.*\\[0, 1\\]"):
        rate_code(np.array([0.0, 255.0]))
    with pytest.raises(ShapeError, match="spike_times"):
        neuron.simulate([2.0, 3.0], duration=10.0).spike_times()


def test_poisson_bins_may_be_wider_than_an_euler_step_but_not_longer_than_the_train():
    raster = poisson_spike_train(np.array([10.0]), duration=100.0, dt=2.0, rng=0)
    assert raster.shape == (50, 1)
    with pytest.raises(ValueError, match="shorter than one time step"):
        poisson_spike_train(np.array([10.0]), duration=0.1, dt=1.0)
