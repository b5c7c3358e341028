"""The catalogue of line_fit submissions, for testing its hidden tests (see autograder/authoring/check/catalogue.py):
the reference's alternatives (full marks: the hidden tests must not insist on one way of doing it), a correct
but noisy one (prints and warnings: still full marks), and the common mistakes, each tagged with the one
function where it must lose points (all of them for a constant or do-nothing function: `zero`). Never
released. `course check line_fit` grades every entry with the real engine and sandbox.
"""

from autograder.authoring.check.catalogue import Entry

# Entries are written compactly, one code cell per string; the formatter would spread each over ten lines.
# fmt: off

# -- correct, but not the reference ------------------------------------------------------------------------

CORRECT = (
    Entry("mse_functional", {"mse": """
        def mse(y_pred, y_true):
            return torch.nn.functional.mse_loss(y_pred, y_true)
        """}),
    Entry("mse_mean_square", {"mse": """
        def mse(y_pred, y_true):
            return torch.mean(torch.square(y_pred - y_true))
        """}),
    Entry("mse_sum_numel", {"mse": """
        def mse(y_pred, y_true):
            diff = y_pred - y_true
            return (diff * diff).sum() / diff.numel()
        """}),
    Entry("sgd_step_data_sub", {"sgd_step": """
        def sgd_step(params, lr):
            for p in params:
                if p.grad is not None:
                    p.data.sub_(lr * p.grad)
        """}),
    Entry("sgd_step_add_alpha", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is None:
                        continue
                    p.add_(p.grad, alpha=-lr)
        """}),
    Entry("sgd_step_filtered_copy", {"sgd_step": """
        @torch.no_grad()
        def sgd_step(params, lr):
            with_grad = [p for p in params if p.grad is not None]
            for p in with_grad:
                p.copy_(p - lr * p.grad)
        """}),
    Entry("train_grad_none_inline_update", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for step in range(n_steps):
                for p in model.parameters():
                    p.grad = None
                loss = mse(model(x), y)
                loss.backward()
                losses.append(float(loss))
                with torch.no_grad():
                    for p in model.parameters():
                        p -= lr * p.grad
            return losses
        """}),
    Entry("train_autograd_grad", {"train": """
        def train(model, x, y, n_steps, lr):
            params = list(model.parameters())
            losses = []
            while len(losses) < n_steps:
                loss = mse(model(x), y)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for p, g in zip(params, grads):
                        p.sub_(lr * g)
                losses.append(loss.detach().item())
            return losses
        """}),
    Entry("train_torch_optim", {"train": """
        def train(model, x, y, n_steps, lr):
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(n_steps):
                optimizer.zero_grad()
                loss = mse(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """}),
    Entry("loss_landscape_expanded_quadratic", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            # mean((a x + b - y)^2), expanded: a^2 <x^2> + 2ab <x> + b^2 - 2a <xy> - 2b <y> + <y^2>
            xx, xy, x1, y1, yy = (x * x).mean(), (x * y).mean(), x.mean(), y.mean(), (y * y).mean()
            a, b = a_grid, b_grid
            return a * a * xx + 2 * a * b * x1 + b * b - 2 * a * xy - 2 * b * y1 + yy
        """}),
    Entry("loss_landscape_outer_flat", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            a, b = a_grid.reshape(-1), b_grid.reshape(-1)
            residuals = torch.outer(a, x) + b[:, None] - y[None, :]
            return residuals.pow(2).mean(dim=1).reshape(a_grid.shape)
        """}),
    Entry("loss_landscape_einsum", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            ones = torch.ones_like(x)
            pred = torch.einsum("...,n->...n", a_grid, x) + torch.einsum("...,n->...n", b_grid, ones)
            return torch.nn.functional.mse_loss(pred, y.expand_as(pred), reduction="none").mean(-1)
        """}),
    Entry("gradients_backward_on_clones", {"gradients": """
        def gradients(f, *inputs):
            copies = [x.clone().detach().requires_grad_(True) for x in inputs]
            f(*copies).backward()
            return [c.grad for c in copies]
        """}),
    Entry("gradients_autograd_grad_clone", {"gradients": """
        def gradients(f, *inputs):
            leaves = tuple(torch.tensor(x.detach().numpy(), dtype=x.dtype, requires_grad=True) for x in inputs)
            grads = torch.autograd.grad(f(*leaves), leaves)
            return tuple(g.detach() for g in grads)
        """}),
    Entry("gradients_torch_func", {"gradients": """
        def gradients(f, *inputs):
            return torch.func.grad(f, argnums=tuple(range(len(inputs))))(*(x.detach() for x in inputs))
        """}),
)

# Correct, and chatty: prints and warnings on stdout and stderr must not cost a point (nbgrader's do).
NOISY = Entry("noisy_but_correct", {
    "mse": """
        import sys
        import warnings

        def mse(y_pred, y_true):
            print("mse of", tuple(y_pred.shape))
            print("debug: computing mse", file=sys.stderr)
            warnings.warn("this mse is chatty")
            return ((y_pred - y_true) ** 2).mean()
        """,
    "sgd_step": """
        import warnings

        def sgd_step(params, lr):
            warnings.warn(f"taking a step of size {lr}", UserWarning)
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
        """,
    "train": """
        import warnings

        def train(model, x, y, n_steps, lr):
            warnings.warn("training starts", RuntimeWarning)
            losses = []
            for step in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                print(f"step {step}: loss {losses[-1]:.4f}")
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), lr)
            return losses
        """,
}, what="prints to stdout and stderr and warns in mse, sgd_step and train")

# -- common mistakes, each in one function -----------------------------------------------------------------

MISTAKES = (
    # mse
    Entry("mse_sums", {"mse": """
        def mse(y_pred, y_true):
            return ((y_pred - y_true) ** 2).sum()
        """}, "mse", "sums the squared differences instead of averaging"),
    Entry("mse_item", {"mse": """
        def mse(y_pred, y_true):
            return ((y_pred - y_true) ** 2).mean().item()
        """}, "mse", "returns a Python float (.item())"),
    Entry("mse_abs", {"mse": """
        def mse(y_pred, y_true):
            return (y_pred - y_true).abs().mean()
        """}, "mse", "mean absolute error instead of squared"),
    Entry("mse_in_place", {"mse": """
        def mse(y_pred, y_true):
            y_pred -= y_true
            return (y_pred ** 2).mean()
        """}, "mse", "subtracts in place, modifying y_pred"),
    Entry("mse_broadcast", {"mse": """
        def mse(y_pred, y_true):
            return ((y_pred.reshape(-1, 1) - y_true.reshape(-1)) ** 2).mean()
        """}, "mse", "broadcasts (N, 1) - (N,) to (N, N)"),
    Entry("mse_float32", {"mse": """
        def mse(y_pred, y_true):
            return ((y_pred.float() - y_true.float()) ** 2).mean()
        """}, "mse", "converts to float32"),
    Entry("mse_numpy", {"mse": """
        def mse(y_pred, y_true):
            return np.mean((y_pred.detach().numpy() - y_true.detach().numpy()) ** 2)
        """}, "mse", "computes in NumPy: no tensor, no autograd"),
    Entry("mse_constant", {"mse": """
        def mse(y_pred, y_true):
            return torch.tensor(0.0)
        """}, "mse", "returns a constant 0-dim tensor: computes nothing", zero=True),
    Entry("mse_huge_tensor", {"mse": """
        def mse(y_pred, y_true):
            return torch.zeros(20000, 20000)
        """}, "mse", "returns a 400-million-element tensor of zeros (1.6 GB)", zero=True),
    Entry("mse_deeply_nested_list", {"mse": """
        def mse(y_pred, y_true):
            nested = []
            for _ in range(100_000):
                nested = [nested]
            return nested
        """}, "mse", "returns a list nested 100,000 deep", zero=True),
    Entry("mse_list_containing_itself", {"mse": """
        def mse(y_pred, y_true):
            loop = [0.0]
            loop.append(loop)
            return loop
        """}, "mse", "returns a list that contains itself", zero=True),
    # sgd_step
    Entry("sgd_step_without_no_grad", {"sgd_step": """
        def sgd_step(params, lr):
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
        """}, "sgd_step", "updates without torch.no_grad()"),
    Entry("sgd_step_rebinds", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p = p - lr * p.grad
        """}, "sgd_step", "rebinds the name p instead of updating in place"),
    Entry("sgd_step_zeroes_grad", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
                        p.grad.zero_()
        """}, "sgd_step", "zeroes .grad after the update"),
    Entry("sgd_step_grad_to_none", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
                        p.grad = None
        """}, "sgd_step", "sets .grad to None after the update"),
    Entry("sgd_step_adds", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p += lr * p.grad
        """}, "sgd_step", "adds the gradient instead of subtracting it"),
    Entry("sgd_step_fixed_lr", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= 0.1 * p.grad
        """}, "sgd_step", "uses a fixed lr of 0.1"),
    Entry("sgd_step_none_grad_crash", {"sgd_step": """
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
        """}, "sgd_step", "crashes on a parameter whose .grad is None"),
    Entry("sgd_step_two_passes", {"sgd_step": """
        def sgd_step(params, lr):
            if all(p.grad is None for p in params):
                return
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
        """}, "sgd_step", "iterates params twice: a generator's first items are gone"),
    Entry("sgd_step_does_nothing", {"sgd_step": """
        def sgd_step(params, lr):
            pass
        """}, "sgd_step", "does nothing at all", zero=True),
    # train
    Entry("train_never_zeroes_grad", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                loss.backward()
                sgd_step(model.parameters(), lr)
            return losses
        """}, "train", "never zeroes the gradients"),
    Entry("train_loss_after_update", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), lr)
                losses.append(mse(model(x), y).item())
            return losses
        """}, "train", "records the loss after the update"),
    Entry("train_returns_tensors", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss)
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), lr)
            return losses
        """}, "train", "returns the loss tensors instead of floats"),
    Entry("train_one_step_short", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(1, n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), lr)
            return losses
        """}, "train", "runs and returns n_steps - 1 steps"),
    Entry("train_ignores_lr", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), 0.1)
            return losses
        """}, "train", "steps with a fixed lr of 0.1"),
    Entry("train_zero_grad_after_backward", {"train": """
        def train(model, x, y, n_steps, lr):
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                loss.backward()
                model.zero_grad()
                sgd_step(model.parameters(), lr)
            return losses
        """}, "train", "zeroes the gradients between backward and the step: nothing moves"),
    Entry("train_copies_model", {"train": """
        import copy

        def train(model, x, y, n_steps, lr):
            model = copy.deepcopy(model)
            losses = []
            for _ in range(n_steps):
                loss = mse(model(x), y)
                losses.append(loss.item())
                model.zero_grad()
                loss.backward()
                sgd_step(model.parameters(), lr)
            return losses
        """}, "train", "trains a copy, leaving the caller's model untouched"),
    Entry("train_constant_losses", {"train": """
        def train(model, x, y, n_steps, lr):
            return [0.0] * n_steps
        """}, "train", "returns n_steps zeros and trains nothing", zero=True),
    Entry("train_closed_form_zero_losses", {"train": """
        def train(model, x, y, n_steps, lr):
            xs, ys = x[:, 0].double(), y.double()
            slope = ((xs - xs.mean()) * (ys - ys.mean())).sum() / ((xs - xs.mean()) ** 2).sum()
            with torch.no_grad():
                model[0].weight.fill_(slope.item())
                model[0].bias.fill_((ys.mean() - slope * xs.mean()).item())
            return [0.0] * n_steps
        """}, "train", "writes the least-squares line into the model and returns zeros: no training", zero=True),
    # loss_landscape
    Entry("loss_landscape_swapped", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            pred = b_grid.unsqueeze(-1) * x + a_grid.unsqueeze(-1)
            return ((pred - y) ** 2).mean(dim=-1)
        """}, "loss_landscape", "swaps the slope and the intercept"),
    Entry("loss_landscape_sums", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            pred = a_grid.unsqueeze(-1) * x + b_grid.unsqueeze(-1)
            return ((pred - y) ** 2).sum(dim=-1)
        """}, "loss_landscape", "sums over the data points instead of averaging"),
    Entry("loss_landscape_one_number", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            pred = a_grid.unsqueeze(-1) * x + b_grid.unsqueeze(-1)
            return ((pred - y) ** 2).mean()
        """}, "loss_landscape", "averages over everything: one number for the whole grid"),
    Entry("loss_landscape_2d_only", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            pred = a_grid[:, :, None] * x + b_grid[:, :, None]
            return ((pred - y) ** 2).mean(dim=2)
        """}, "loss_landscape", "works for 2-D grids only"),
    Entry("loss_landscape_unsqueezes_in_place", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            a_grid.unsqueeze_(-1)
            b_grid.unsqueeze_(-1)
            return ((a_grid * x + b_grid - y) ** 2).mean(dim=-1)
        """}, "loss_landscape", "unsqueezes the caller's grids in place"),
    Entry("loss_landscape_zeros", {"loss_landscape": """
        def loss_landscape(x, y, a_grid, b_grid):
            return torch.zeros_like(a_grid)
        """}, "loss_landscape", "returns zeros of the grid's shape: computes nothing", zero=True),
    # gradients
    Entry("gradients_reads_the_wrong_grad", {"gradients": """
        def gradients(f, *inputs):
            leaves = [x.detach().requires_grad_(True) for x in inputs]
            f(*leaves).backward()
            return tuple(x.grad for x in inputs)
        """}, "gradients", "differentiates copies, then returns the inputs' .grad (None)"),
    Entry("gradients_hard_coded", {"gradients": """
        def gradients(f, *inputs):
            a, b = inputs
            return 9 * a.detach() ** 2, -2 * b.detach()
        """}, "gradients", "hard-codes the lesson's 9a² and −2b"),
    Entry("gradients_on_the_inputs", {"gradients": """
        def gradients(f, *inputs):
            for x in inputs:
                x.requires_grad_(True)
            f(*inputs).backward()
            return tuple(x.grad for x in inputs)
        """}, "gradients", "calls backward on the inputs: leaves requires_grad and .grad on them"),
    Entry("gradients_with_history", {"gradients": """
        def gradients(f, *inputs):
            leaves = [x.detach().requires_grad_(True) for x in inputs]
            return torch.autograd.grad(f(*leaves), leaves, create_graph=True)
        """}, "gradients", "returns gradients that carry autograd history (create_graph=True)"),
    Entry("gradients_float32", {"gradients": """
        def gradients(f, *inputs):
            leaves = [x.detach().float().requires_grad_(True) for x in inputs]
            return tuple(torch.autograd.grad(f(*leaves), leaves))
        """}, "gradients", "computes in float32 whatever the inputs' dtype"),
    Entry("gradients_zeros", {"gradients": """
        def gradients(f, *inputs):
            return tuple(torch.zeros_like(x) for x in inputs)
        """}, "gradients", "returns zeros of the inputs' shapes: computes nothing", zero=True),
    Entry("gradients_accumulates_between_calls", {"gradients": """
        _leaves = {}

        def gradients(f, *inputs):
            key = tuple((tuple(x.shape), x.dtype) for x in inputs)
            if key not in _leaves:
                _leaves[key] = [torch.zeros_like(x).requires_grad_(True) for x in inputs]
            copies = _leaves[key]
            with torch.no_grad():
                for c, x in zip(copies, inputs):
                    c.copy_(x)
            f(*copies).backward()
            return [c.grad.clone() for c in copies]
        """}, "gradients", "keeps its leaf tensors between calls, so .grad accumulates from the second call on"),
)

# fmt: on

# The reference code, and one unrelated cell broken beyond parsing: only that cell may fail.
SYNTAX_ERROR_CELLS = {"flatten_shapes": "print('this cell was broken by the student'\nbatch = torch.zeros(5, 1\n"}
