import pytest
import torch

from alexnet.training.evaluate import topk_error


def test_topk_error_counts():
    logits = torch.tensor([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.2, 0.5, 0.3], [0.5, 0.2, 0.3]])
    targets = torch.tensor([0, 0, 2, 1])
    err = topk_error(logits, targets, ks=(1, 2, 3))
    assert err[1] == pytest.approx(3 / 4)
    assert err[2] == pytest.approx(2 / 4)
    assert err[3] == 0.0


def test_topk_larger_than_classes_is_clamped():
    err = topk_error(torch.randn(5, 3), torch.zeros(5, dtype=torch.long))
    assert err[5] == 0.0 and 0.0 <= err[1] <= 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        topk_error(torch.randn(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="targets must have shape"):
        topk_error(torch.randn(4, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\]"):
        topk_error(torch.randn(2, 3), torch.tensor([0, 3]))
