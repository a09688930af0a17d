import numpy as np

from ila.lm.sampling import LengthGroupedEpochSampler, epoch_seed


def _padded(order, lengths, batch):
    return sum(len(order[k : k + batch]) * max(lengths[i] for i in order[k : k + batch]) for k in range(0, len(order), batch))


def test_order_is_a_permutation_with_less_padding_than_random():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 250, size=300).tolist()
    sampler = LengthGroupedEpochSampler(lengths, batch_size=16, seed=3)
    order = list(sampler)
    assert sorted(order) == list(range(300)) and len(sampler) == 300
    random_order = rng.permutation(300).tolist()
    grouped, shuffled = _padded(order, lengths, 16), _padded(random_order, lengths, 16)
    assert grouped < 0.8 * shuffled
    # the longest example comes first (an out-of-memory error shows at once)
    assert lengths[order[0]] == max(lengths)


def test_order_depends_on_seed_and_epoch_only():
    lengths = list(range(5, 205))
    a = LengthGroupedEpochSampler(lengths, 8, seed=1)
    b = LengthGroupedEpochSampler(lengths, 8, seed=1)
    first = list(a)
    assert list(a) == first  # iterating again without set_epoch repeats the epoch
    a.set_epoch(1)
    second = list(a)
    assert second != first
    b.set_epoch(1)  # a fresh sampler (a resumed run) jumps straight to epoch 1
    assert list(b) == second
    assert list(LengthGroupedEpochSampler(lengths, 8, seed=2)) != first
    assert epoch_seed(1, 0) != epoch_seed(0, 1) and 0 <= epoch_seed(7, 7) < 2**63


def test_empty_dataset_yields_nothing():
    assert list(LengthGroupedEpochSampler([], 4, seed=0)) == []
