"""Section 5's update rule (alexnet.training.sgd.PaperSGD) and the learning-rate schedule."""

import pytest
import torch
from torch import nn

from alexnet.training.config import TrainConfig
from alexnet.training.sgd import PaperSGD, make_scheduler


def _steps(opt_class, lrs, **kw):
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    opt = opt_class(layer.parameters(), lr=lrs[0], momentum=0.9, weight_decay=5e-4, **kw)
    g = torch.Generator().manual_seed(1)
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = lr
        x = torch.randn(8, 4, generator=g)
        layer.zero_grad()
        layer(x).pow(2).mean().backward()
        opt.step()
    return layer.weight.detach().clone()


def test_paper_sgd_is_section_5s_rule():
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = PaperSGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad = torch.tensor([0.3, 0.4])
    opt.step()  # v = -0.5*0.1*w - 0.1*g ; w = w + v
    v1 = -0.05 * torch.tensor([1.0, -2.0]) - 0.1 * torch.tensor([0.3, 0.4])
    assert torch.allclose(w.detach(), torch.tensor([1.0, -2.0]) + v1)
    w0 = w.detach().clone()
    w.grad = torch.tensor([-0.1, 0.2])
    opt.step()
    v2 = 0.9 * v1 - 0.05 * w0 - 0.1 * torch.tensor([-0.1, 0.2])
    assert torch.allclose(w.detach(), w0 + v2)


def test_paper_sgd_equals_torch_sgd_until_the_learning_rate_changes():
    fixed = [0.05] * 6
    assert torch.allclose(_steps(PaperSGD, fixed), _steps(torch.optim.SGD, fixed), atol=1e-6)
    dropped = [0.05] * 3 + [0.005] * 3  # after a division the old velocity still carries the old rate
    assert not torch.allclose(_steps(PaperSGD, dropped), _steps(torch.optim.SGD, dropped), atol=1e-4)


def test_schedule_divides_by_ten_when_error_stalls_at_most_three_times():
    opt = PaperSGD([nn.Parameter(torch.zeros(1))], lr=0.01)
    sched = make_scheduler(opt, TrainConfig(lr=0.01, lr_patience=1))
    lrs = []
    for error in [0.5, 0.4, 0.4, 0.4] + [0.4] * 12:
        sched.step(error)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[:2] == [0.01, 0.01]
    assert lrs[3] == pytest.approx(0.001)
    assert sorted({round(lr, 9) for lr in lrs}) == [1e-05, 1e-04, 1e-03, 1e-02]
    assert lrs[-1] == pytest.approx(1e-5)
