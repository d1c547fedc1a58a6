"""Paired stratified bootstrap: against a slow reference, by simulation, and its invariants."""

from __future__ import annotations

import numpy as np
import pytest

import promgate.stats.bootstrap as bs
from promgate.stats.bootstrap import (
    bootstrap_replicates,
    bootstrap_rng,
    macro_bootstrap,
    paired_bootstrap,
)


def _binary_pairs(n: int, cells: list[float], rng: np.random.Generator):
    """n pairs from the joint law over cells (0,0), (0,1), (1,0), (1,1)."""
    k = rng.choice(4, size=n, p=cells)
    return (k >= 2).astype(float), (k % 2).astype(float)


def _slow_reference(base, cand, strata, resamples, seed, confidence=0.95):
    """Plain index resampling, one replicate at a time, stratum by stratum."""
    rng = np.random.default_rng(seed)
    diff = cand - base
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    reps = np.empty(resamples)
    for r in range(resamples):
        picked = [rng.choice(g, size=g.size, replace=True) for g in groups]
        reps[r] = diff[np.concatenate(picked)].mean()
    a = 1 - confidence
    return np.quantile(reps, [a / 2, 1 - a / 2]), reps.std()


def test_binary_ci_matches_slow_index_resampling():
    rng = np.random.default_rng(7)
    base, cand = _binary_pairs(200, [0.30, 0.12, 0.05, 0.53], rng)
    strata = np.where(np.arange(200) < 120, "a", "b")
    res = paired_bootstrap(base, cand, strata, resamples=10_000, seed=1)
    (low, high), sd = _slow_reference(base, cand, strata, 3_000, seed=2)
    assert res.method == bs.METHOD_CELLS
    # Monte-Carlo error of a 2.5 % quantile at these B is about 0.06 bootstrap SDs.
    assert abs(res.ci_low - low) < 0.25 * sd
    assert abs(res.ci_high - high) < 0.25 * sd
    assert res.delta == pytest.approx(cand.mean() - base.mean())


def test_continuous_ci_matches_slow_index_resampling():
    rng = np.random.default_rng(8)
    base = rng.beta(2, 3, 150)
    cand = np.clip(base + rng.normal(0.04, 0.1, 150), 0, 1)
    strata = rng.choice(["x", "y", "z"], 150)
    res = paired_bootstrap(base, cand, strata, resamples=10_000, seed=3)
    (low, high), sd = _slow_reference(base, cand, strata, 3_000, seed=4)
    assert res.method == bs.METHOD_INDEX
    assert abs(res.ci_low - low) < 0.25 * sd
    assert abs(res.ci_high - high) < 0.25 * sd


def test_cell_replicates_have_the_paired_standard_error():
    # Var(Δ*) = (p01 + p10 − Δ²) / n for paired binary data; an unpaired resampler would be
    # far wider here because baseline and candidate agree on most items.
    rng = np.random.default_rng(11)
    base, cand = _binary_pairs(500, [0.40, 0.06, 0.02, 0.52], rng)
    reps, _ = bootstrap_replicates(base, cand, resamples=20_000, rng=bootstrap_rng(0))
    p01 = np.mean((base == 0) & (cand == 1))
    p10 = np.mean((base == 1) & (cand == 0))
    expected = np.sqrt((p01 + p10 - (p01 - p10) ** 2) / base.size)
    assert reps.std() == pytest.approx(expected, rel=0.03)
    assert reps.mean() == pytest.approx(cand.mean() - base.mean(), abs=0.1 * expected)


@pytest.mark.parametrize(
    "counts", [[30, 12, 5, 53], [300, 100, 80, 520], [50, 0, 7, 43], [40, 9, 0, 1], [5, 0, 0, 5]]
)
def test_difference_law_is_the_multinomial_law_of_n01_minus_n10(counts):
    from scipy.stats import binom

    counts = np.array(counts)
    n = int(counts.sum())
    values, probs = bs._difference_law(counts)
    # P(D = d) = Σ_m P(n01 + n10 = m) · P(n01 = (m + d) / 2 | m), by brute force.
    psi = (counts[1] + counts[2]) / n
    q = counts[1] / (counts[1] + counts[2]) if psi else 0.0
    exact = np.zeros(2 * n + 1)
    for m in range(n + 1):
        k = np.arange(m + 1)
        np.add.at(exact, 2 * k - m + n, binom.pmf(m, n, psi) * binom.pmf(k, m, q))
    law = np.zeros(2 * n + 1)
    law[values + n] = probs
    assert np.abs(law - exact).max() < 1e-11
    assert np.all(exact[values + n] > 0)  # nothing impossible is ever drawn


def _coverage(simulate, truth: float, datasets: int, resamples: int) -> float:
    hits = 0
    for i in range(datasets):
        base, cand, strata = simulate(np.random.default_rng(10_000 + i))
        res = paired_bootstrap(base, cand, strata, resamples=resamples, seed=i)
        hits += res.ci_low <= truth <= res.ci_high
    return hits / datasets


def test_binary_ci_covers_the_true_delta_about_95_percent_of_the_time():
    # Stratified design: 120 items from stratum a, 80 from b, fixed; truth weights by size.
    law = {"a": [0.35, 0.15, 0.08, 0.42], "b": [0.50, 0.05, 0.10, 0.35]}
    truth = (120 * (0.15 - 0.08) + 80 * (0.05 - 0.10)) / 200

    def simulate(rng):
        parts = [(_binary_pairs(n, law[s], rng), s, n) for s, n in (("a", 120), ("b", 80))]
        base = np.concatenate([p[0][0] for p in parts])
        cand = np.concatenate([p[0][1] for p in parts])
        return base, cand, np.repeat([p[1] for p in parts], [p[2] for p in parts])

    # Measured over 10,000 datasets the method covers ~94.2 % here (percentile intervals run
    # a little short at n = 200). 2,000 datasets put the Monte-Carlo SE near 0.5 pp, so the
    # 92-98 % band is a real check rather than a coin flip at its lower edge.
    cover = _coverage(simulate, truth, datasets=2_000, resamples=2_000)
    assert 0.92 <= cover <= 0.98, cover


def test_continuous_ci_covers_the_true_delta_about_95_percent_of_the_time():
    # cand = base + U(-0.1, 0.2), unclipped so the true Δ is exactly 0.05.
    def simulate(rng):
        base = rng.beta(2, 3, 80)
        return base, base + rng.uniform(-0.1, 0.2, 80), None

    cover = _coverage(simulate, 0.05, datasets=2_000, resamples=1_000)
    assert 0.92 <= cover <= 0.98, cover


@pytest.mark.parametrize("binary", [True, False])
def test_stratum_sizes_are_fixed_in_every_replicate(binary):
    # Every item of stratum a improves by 1, none of stratum b moves: with stratum sizes held
    # fixed every replicate is exactly 30 / 100; pooled resampling would vary.
    base = np.zeros(100)
    cand = np.r_[np.ones(30), np.zeros(70)]
    if not binary:
        base, cand = base + 0.25, cand * 0.5 + 0.25
    strata = np.r_[np.repeat("a", 30), np.repeat("b", 70)]
    step = 1.0 if binary else 0.5
    reps, _ = bootstrap_replicates(base, cand, strata, resamples=500, rng=bootstrap_rng(0))
    assert np.allclose(reps, 30 * step / 100)
    pooled, _ = bootstrap_replicates(base, cand, None, resamples=500, rng=bootstrap_rng(0))
    assert pooled.std() > 0.01


def test_same_seed_same_answer_other_seed_other_answer():
    rng = np.random.default_rng(5)
    base, cand = _binary_pairs(100, [0.3, 0.2, 0.1, 0.4], rng)
    assert paired_bootstrap(base, cand, seed=9) == paired_bootstrap(base, cand, seed=9)
    assert paired_bootstrap(base, cand, seed=9) != paired_bootstrap(base, cand, seed=10)


def test_chunking_does_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(6)
    base, cand = rng.random(60), rng.random(60)
    whole = paired_bootstrap(base, cand, resamples=3_000, seed=2)
    monkeypatch.setattr(bs, "_MAX_DRAWS_PER_CHUNK", 7 * 60)
    assert paired_bootstrap(base, cand, resamples=3_000, seed=2) == whole


def test_macro_is_the_replicate_mean_of_keyed_per_benchmark_bootstraps():
    rng = np.random.default_rng(12)
    arms = {
        "arc": (*_binary_pairs(150, [0.3, 0.2, 0.1, 0.4], rng), None),
        "gsm": (rng.random(40), rng.random(40), None),
    }
    macro = macro_bootstrap(arms, resamples=4_000, seed=3)
    for name, (base, cand, strata) in arms.items():
        alone = paired_bootstrap(base, cand, strata, resamples=4_000, seed=3, key=name)
        assert macro.per_benchmark[name] == alone
    expected = np.mean([r.delta for r in macro.per_benchmark.values()])
    assert macro.average.delta == pytest.approx(expected)
    reps = sum(
        bootstrap_replicates(b, c, s, resamples=4_000, rng=bootstrap_rng(3, k))[0]
        for k, (b, c, s) in sorted(arms.items())
    )
    low, high = np.quantile(reps / 2, [0.025, 0.975])
    assert (macro.average.ci_low, macro.average.ci_high) == pytest.approx((low, high))
    assert macro.average.method == bs.METHOD_MACRO


def test_macro_ci_agrees_with_independent_joint_resampling():
    rng = np.random.default_rng(13)
    arms = {f"b{i}": (*_binary_pairs(120, [0.3, 0.2, 0.1, 0.4], rng), None) for i in range(3)}
    macro = macro_bootstrap(arms, resamples=10_000, seed=4).average
    ref_rng = np.random.default_rng(99)
    reps = np.empty(3_000)
    for r in range(reps.size):
        deltas = []
        for base, cand, _ in arms.values():
            idx = ref_rng.integers(0, base.size, base.size)
            deltas.append(cand[idx].mean() - base[idx].mean())
        reps[r] = np.mean(deltas)
    low, high = np.quantile(reps, [0.025, 0.975])
    assert abs(macro.ci_low - low) < 0.25 * reps.std()
    assert abs(macro.ci_high - high) < 0.25 * reps.std()


@pytest.mark.parametrize(
    ("base", "cand", "kwargs"),
    [
        ([], [], {}),
        ([1.0, 0.0], [1.0], {}),
        ([1.0, np.nan], [1.0, 0.0], {}),
        ([1.0, 0.0], [1.0, 0.0], {"confidence": 1.0}),
    ],
)
def test_bad_inputs_are_refused(base, cand, kwargs):
    with pytest.raises(ValueError):
        paired_bootstrap(np.array(base), np.array(cand), resamples=100, **kwargs)


# ---------------------------------------------------------------------------------------
# Against scipy.stats.bootstrap (paired=True): same data, independent random streams.
# ---------------------------------------------------------------------------------------


def _scipy_ci(base, cand, method: str, seed: int, resamples: int = 10_000):
    from scipy import stats

    def mean_diff(b, c, axis=-1):
        return np.mean(c - b, axis=axis)

    res = stats.bootstrap(
        (base, cand),
        mean_diff,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        method=method,
        rng=np.random.default_rng(seed),
    )
    return res.confidence_interval.low, res.confidence_interval.high, res.standard_error


def _paired_datasets():
    rng = np.random.default_rng(21)
    yield "binary", *_binary_pairs(300, [0.30, 0.12, 0.05, 0.53], rng)
    yield "binary-rare", *_binary_pairs(400, [0.55, 0.03, 0.01, 0.41], rng)
    base = rng.beta(2, 5, 120)
    # Skewed differences, so BCa and percentile really differ.
    yield "skewed-scores", base, np.clip(base + rng.exponential(0.1, 120) - 0.06, 0, 1)


@pytest.mark.parametrize(("ours", "theirs"), [("percentile", "percentile"), ("bca", "BCa")])
def test_ci_matches_scipy_bootstrap_within_monte_carlo_error(ours, theirs):
    for i, (name, base, cand) in enumerate(_paired_datasets()):
        res = paired_bootstrap(base, cand, resamples=10_000, seed=100 + i, ci=ours)
        low, high, se = _scipy_ci(base, cand, theirs, seed=200 + i)
        # Each bound's MC SD is ~0.06 bootstrap SDs at B = 10,000 (~0.085 for a difference
        # of two); binary Δ also lives on a 1/n grid, so one grid step is allowed on top.
        tol = 0.3 * se + (1.0 / base.size if name.startswith("binary") else 0.0)
        assert abs(res.ci_low - low) < tol, (name, res.ci_low, low)
        assert abs(res.ci_high - high) < tol, (name, res.ci_high, high)
        assert res.ci_type == ours


def test_bca_shifts_the_interval_the_way_scipy_does_on_skewed_data():
    _, base, cand = list(_paired_datasets())[2]
    perc = paired_bootstrap(base, cand, seed=1)
    bca = paired_bootstrap(base, cand, seed=1, ci="bca")
    s_perc = _scipy_ci(base, cand, "percentile", seed=2)
    s_bca = _scipy_ci(base, cand, "BCa", seed=2)
    # Right-skewed differences: BCa moves both bounds up relative to percentile.
    assert bca.ci_low > perc.ci_low and bca.ci_high > perc.ci_high
    assert s_bca[0] > s_perc[0] and s_bca[1] > s_perc[1]
    assert bca.acceleration is not None and bca.acceleration > 0
    assert perc.acceleration is None and perc.bias_correction is None


# ---------------------------------------------------------------------------------------
# BCa acceleration: the analytic per-cell / per-unit jackknife against brute force.
# ---------------------------------------------------------------------------------------


def _brute_acceleration(diff, strata, units):
    """Delete each unit in turn, recompute the stratified estimator, apply D&H eq. 5.23."""
    n = diff.size
    labels = np.unique(strata)

    def estimate(keep):
        return sum(np.sum(strata == s) / n * diff[keep & (strata == s)].mean() for s in labels)

    num = den = 0.0
    for s in labels:
        ids = np.unique(units[strata == s])
        k = ids.size
        if k < 2:
            continue
        theta = np.array([estimate(units != u) for u in ids])
        u_vals = (k - 1) * (theta.mean() - theta)
        num += np.sum(u_vals**3) / k**3
        den += np.sum(u_vals**2) / k**2
    return num / (6 * den**1.5)


@pytest.mark.parametrize("case", ["binary", "scores", "binary-strata", "clusters-strata"])
def test_bca_acceleration_equals_a_brute_force_jackknife(case):
    rng = np.random.default_rng(31)
    n = 90
    base, cand = _binary_pairs(n, [0.4, 0.25, 0.05, 0.3], rng)
    if case == "scores":
        base, cand = rng.random(n), rng.random(n) ** 0.5
    strata = np.zeros(n, dtype=int) if "strata" not in case else rng.integers(0, 3, n)
    clusters = None
    units = np.arange(n)
    if case == "clusters-strata":
        clusters = np.array([f"c{s}-{i % 7}" for i, s in enumerate(strata)])
        units = np.unique(clusters, return_inverse=True)[1]
    res = paired_bootstrap(
        base, cand, strata.astype(str), clusters=clusters, resamples=200, ci="bca"
    )
    expected = _brute_acceleration(cand - base, strata, units)
    assert res.acceleration == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("clustered", [False, True])
def test_bca_bounds_follow_efron_formula_on_the_replicates(clustered):
    from scipy.stats import norm, percentileofscore

    rng = np.random.default_rng(33)
    base, cand = _binary_pairs(200, [0.5, 0.1, 0.03, 0.37], rng)
    strata = rng.choice(["a", "b"], 200)
    clusters = np.array([f"{s}{i // 4}" for i, s in enumerate(strata)]) if clustered else None
    res = paired_bootstrap(base, cand, strata, clusters=clusters, seed=8, key="k", ci="bca")
    reps, _ = bootstrap_replicates(
        base, cand, strata, clusters=clusters, resamples=10_000, rng=bootstrap_rng(8, "k")
    )
    # z0 from the share of replicates below Δ, ties counting half (percentileofscore "mean").
    z0 = norm.ppf(percentileofscore(np.round(reps, 12), round(res.delta, 12), kind="mean") / 100)
    assert res.bias_correction == pytest.approx(z0, abs=1e-9)
    a = res.acceleration
    levels = [norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))) for z in norm.ppf([0.025, 0.975])]
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(np.quantile(reps, levels)))


def test_bca_on_a_sample_without_variation_is_the_point():
    base = np.ones(50)
    res = paired_bootstrap(base, base, ci="bca", resamples=1_000)
    assert (res.ci_low, res.delta, res.ci_high) == (0.0, 0.0, 0.0)
    assert res.acceleration == 0.0


def test_unknown_ci_type_is_refused():
    with pytest.raises(ValueError, match="ci must be one of"):
        paired_bootstrap(np.ones(5), np.zeros(5), ci="basic")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Cluster bootstrap.
# ---------------------------------------------------------------------------------------


def _twins(pairs: int, law, share: float, rng: np.random.Generator):
    """WinoGrande-like twins: the second twin copies the first's cell with prob. share."""
    first = rng.choice(4, size=pairs, p=law)
    second = np.where(rng.random(pairs) < share, first, rng.choice(4, size=pairs, p=law))
    cells = np.column_stack([first, second]).reshape(-1)
    clusters = np.repeat([f"t{i}" for i in range(pairs)], 2)
    return (cells >= 2).astype(float), (cells % 2).astype(float), clusters


@pytest.mark.parametrize("labels", ["empty", "unique", "none"])
def test_singleton_clusters_give_the_item_bootstrap_bit_for_bit(labels):
    rng = np.random.default_rng(41)
    base, cand = _binary_pairs(120, [0.3, 0.2, 0.1, 0.4], rng)
    strata = rng.choice(["a", "b"], 120)
    clusters = {
        "empty": np.full(120, ""),
        "unique": np.array([f"x{i}" for i in range(120)]),
        "none": np.array([None] * 120, dtype=object),
    }[labels]
    for ci in ("percentile", "bca"):
        plain = paired_bootstrap(base, cand, strata, seed=4, ci=ci)
        assert paired_bootstrap(base, cand, strata, clusters=clusters, seed=4, ci=ci) == plain


def test_cluster_bootstrap_widens_the_ci_by_sqrt2_for_identical_twins():
    rng = np.random.default_rng(42)
    base, cand, clusters = _twins(400, [0.3, 0.15, 0.08, 0.47], share=1.0, rng=rng)
    item = paired_bootstrap(base, cand, resamples=10_000, seed=1)
    clus = paired_bootstrap(base, cand, clusters=clusters, resamples=10_000, seed=1)
    assert clus.method == bs.METHOD_CLUSTER and clus.n_clusters == 400
    assert item.method == bs.METHOD_CELLS and item.n_clusters is None
    ratio = (clus.ci_high - clus.ci_low) / (item.ci_high - item.ci_low)
    assert ratio == pytest.approx(np.sqrt(2), rel=0.08)
    assert clus.delta == item.delta


def test_cluster_bootstrap_does_not_widen_independent_twins():
    rng = np.random.default_rng(43)
    base, cand, clusters = _twins(400, [0.3, 0.15, 0.08, 0.47], share=0.0, rng=rng)
    item = paired_bootstrap(base, cand, resamples=10_000, seed=1)
    clus = paired_bootstrap(base, cand, clusters=clusters, resamples=10_000, seed=1)
    ratio = (clus.ci_high - clus.ci_low) / (item.ci_high - item.ci_low)
    assert ratio == pytest.approx(1.0, abs=0.08)


@pytest.mark.parametrize("binary", [False, True])
def test_cluster_ci_matches_slow_cluster_resampling_with_strata(binary):
    # Clusters of 1 to 6 items, so a replicate's item count varies: each stratum's replicate
    # mean is a ratio (drawn difference sum / drawn item count), as plain resampling gives.
    # Scores give every cluster its own type (index draws); binary outcomes give few types
    # (multinomial draws over them).
    rng = np.random.default_rng(44)
    sizes = rng.integers(1, 7, 70)
    n = int(sizes.sum())
    clusters = np.repeat([f"c{i}" for i in range(sizes.size)], sizes)
    strata = np.repeat(np.where(np.arange(sizes.size) % 4 == 0, "hard", "easy"), sizes)
    shared = np.repeat(rng.normal(0, 0.15, sizes.size), sizes)
    base = rng.beta(2, 5, n)
    cand = np.clip(base + 0.3 + shared + rng.normal(0, 0.05, n), 0, 1)
    if binary:
        sizes = np.repeat([1, 2, 3], 400)
        n = int(sizes.sum())
        clusters = np.repeat([f"c{i}" for i in range(sizes.size)], sizes)
        strata = np.repeat(np.where(np.arange(sizes.size) % 4 == 0, "hard", "easy"), sizes)
        twin = np.repeat(rng.random(sizes.size) < 0.5, sizes)
        base = (rng.random(n) < 0.55).astype(float)
        cand = np.where(twin, np.repeat(rng.random(sizes.size) < 0.75, sizes), base)
        cand = cand.astype(float)
    res = paired_bootstrap(base, cand, strata, clusters=clusters, resamples=10_000, seed=5)
    diff = cand - base
    ref_rng = np.random.default_rng(6)
    groups = {
        s: [np.flatnonzero(clusters == c) for c in np.unique(clusters[strata == s])]
        for s in np.unique(strata)
    }
    reps = np.empty(3_000)
    for r in range(reps.size):
        total = 0.0
        for s, members in groups.items():
            drawn = [members[j] for j in ref_rng.integers(0, len(members), len(members))]
            idx = np.concatenate(drawn)
            total += np.sum(strata == s) / n * diff[idx].mean()
        reps[r] = total
    low, high = np.quantile(reps, [0.025, 0.975])
    assert res.method == bs.METHOD_CLUSTER and res.n_clusters == sizes.size
    assert abs(res.ci_low - low) < 0.25 * reps.std()
    assert abs(res.ci_high - high) < 0.25 * reps.std()


def test_cluster_bootstrap_restores_coverage_that_item_resampling_loses():
    law = [0.35, 0.15, 0.08, 0.42]
    truth = 0.15 - 0.08
    item_hits = cluster_hits = 0
    datasets = 800
    for i in range(datasets):
        base, cand, clusters = _twins(150, law, share=0.8, rng=np.random.default_rng(500 + i))
        item = paired_bootstrap(base, cand, resamples=1_000, seed=i)
        clus = paired_bootstrap(base, cand, clusters=clusters, resamples=1_000, seed=i)
        item_hits += item.ci_low <= truth <= item.ci_high
        cluster_hits += clus.ci_low <= truth <= clus.ci_high
    # Design effect 1 + 0.8 ≈ 1.8: item CIs are ~25 % too narrow (coverage near 86 %).
    assert item_hits / datasets < 0.90
    assert 0.92 <= cluster_hits / datasets <= 0.98


def test_a_cluster_spanning_strata_is_refused():
    base = np.array([1.0, 0.0, 1.0, 0.0, 1.0] * 2)
    cand = np.array([1.0, 1.0, 0.0, 0.0, 1.0] * 2)
    strata = np.array(["a"] * 5 + ["b"] * 5)
    clusters = np.array(["k", "j1", "j2", "j3", "j4", "k", "j5", "j6", "j7", "j8"])
    with pytest.raises(ValueError, match="cluster 'k' spans more than one stratum"):
        paired_bootstrap(base, cand, strata, clusters=clusters)


def test_singleton_strata_are_pooled_so_their_flips_count():
    # Two improvements, each alone in its own stratum, among 40 ties: resampling a singleton
    # stratum always redraws it, so unpooled the CI would exclude 0 with only two flips.
    base = np.zeros(42)
    cand = np.zeros(42)
    cand[:2] = 1.0
    strata = np.array([f"solo{i}" for i in range(2)] + ["big"] * 40)
    result = paired_bootstrap(base, cand, strata, resamples=4000, seed=1)
    assert result.ci_low <= 0.0 < result.ci_high
    every_item_alone = np.array([f"solo{i}" for i in range(42)])
    result = paired_bootstrap(base, cand, every_item_alone, resamples=4000, seed=1)
    assert result.ci_low <= 0.0 < result.ci_high


def test_macro_bootstrap_takes_clusters_and_bca_and_matches_per_benchmark_calls():
    rng = np.random.default_rng(45)
    b1, c1, k1 = _twins(100, [0.3, 0.2, 0.1, 0.4], share=0.9, rng=rng)
    arms = {
        "wino": (b1, c1, None, k1),
        "arc": (*_binary_pairs(150, [0.3, 0.2, 0.1, 0.4], rng), None),
    }
    macro = macro_bootstrap(arms, resamples=4_000, seed=3, ci="bca")
    alone = paired_bootstrap(b1, c1, clusters=k1, resamples=4_000, seed=3, key="wino", ci="bca")
    assert macro.per_benchmark["wino"] == alone
    assert macro.per_benchmark["arc"].method == bs.METHOD_CELLS
    assert macro.average.ci_type == "bca" and macro.average.n_clusters == 100
    assert macro.average.ci_low <= macro.average.delta <= macro.average.ci_high


# ---------------------------------------------------------------------------------------
# Properties (hypothesis).
# ---------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from promgate.results import ItemResult  # noqa: E402
from promgate.stats.pairing import pair_results  # noqa: E402

_PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def _paired_items(draw):
    """Baseline and candidate ItemResults of one benchmark, binary or scores."""
    n = draw(st.integers(1, 40))
    binary = draw(st.booleans())
    outcome = st.booleans() if binary else st.floats(0.0, 1.0, allow_nan=False)
    base, cand = [], []
    for i in range(n):
        cluster = draw(st.sampled_from(["", "", "k0", "k1", "k2", "k3"]))
        stratum = {"k0": "s0", "k2": "s0"}.get(cluster, "s1") if cluster else None
        common = {"id": f"b/{i}", "benchmark": "b", "stratum": stratum, "cluster": cluster}
        for side, out in (("base", base), ("cand", cand)):
            value = draw(outcome)
            field = {"correct": value} if binary else {"score": value}
            out.append(ItemResult(model_id=side, **common, **field))
    return base, cand


@_PROPS
@given(items=_paired_items(), data=st.data(), ci=st.sampled_from(["percentile", "bca"]))
def test_shuffling_item_order_never_changes_pairing_or_bootstrap(items, data, ci):
    base, cand = items

    def run(b, c):
        s = pair_results(b, c, benchmark="b")
        res = paired_bootstrap(
            s.baseline, s.candidate, s.strata, clusters=s.clusters, resamples=300, ci=ci
        )
        return s.ids.tolist(), s.baseline.tolist(), s.candidate.tolist(), res

    shuffled_b = data.draw(st.permutations(base))
    shuffled_c = data.draw(st.permutations(cand))
    assert run(shuffled_b, shuffled_c) == run(base, cand)


@_PROPS
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**16),
    binary=st.booleans(),
    clustered=st.booleans(),
    stratified=st.booleans(),
    ci=st.sampled_from(["percentile", "bca"]),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_the_ci_always_contains_the_point_estimate(
    n, seed, binary, clustered, stratified, ci, confidence
):
    rng = np.random.default_rng(seed)
    if binary:
        base, cand = rng.integers(0, 2, n).astype(float), rng.integers(0, 2, n).astype(float)
    else:
        base, cand = rng.random(n), rng.random(n) ** rng.uniform(0.2, 5)
    clusters = np.array([f"c{i // 3}" for i in range(n)]) if clustered else None
    strata = np.array([f"s{(i // 3) % 2}" for i in range(n)]) if stratified else None
    res = paired_bootstrap(
        base,
        cand,
        strata,
        clusters=clusters,
        resamples=400,
        seed=seed,
        ci=ci,
        confidence=confidence,
    )
    assert res.ci_low <= res.delta + 1e-12
    assert res.delta <= res.ci_high + 1e-12
