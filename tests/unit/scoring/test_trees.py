import lightgbm as lgb
import numpy as np

from walletguard.scoring.trees import compile_trees


def _model(zero_as_missing: bool) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[:, 2] = np.where(rng.random(3000) < 0.3, 0.0, x[:, 2])
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 2]) * 2 + rng.normal(size=3000)) > 1).astype(
        int
    )
    params = {
        "objective": "binary",
        "num_leaves": 15,
        "verbose": -1,
        "num_threads": 1,
        "zero_as_missing": zero_as_missing,
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=40)
    test = rng.normal(size=(500, 6))
    test[rng.random(test.shape) < 0.25] = np.nan
    test[:40, 2] = 0.0
    return booster, test


def test_compiled_trees_give_lightgbms_raw_score_with_missing_values() -> None:
    for zero_as_missing in (False, True):
        booster, test = _model(zero_as_missing)
        scorer = compile_trees(booster.dump_model())
        expected = booster.predict(test, raw_score=True)
        got = np.array([scorer([float(v) for v in row]) for row in test])
        assert np.allclose(got, expected, rtol=0, atol=1e-12)
