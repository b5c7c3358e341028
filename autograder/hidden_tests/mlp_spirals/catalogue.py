"""The catalogue of mlp_spirals submissions, for testing its hidden tests (see autograder/authoring/check/catalogue.py):
correct variants at full marks, and common mistakes, each losing points in its own function only. Never
released. `course check mlp_spirals` grades every entry with the real engine and sandbox."""

from autograder.authoring.check.catalogue import Entry

# Entries are written compactly, one code cell per string; the formatter would spread each over ten lines.
# fmt: off

CORRECT = (
    # -- make_mlp ------------------------------------------------------------------------------------------
    Entry("make_mlp_append_loop", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers.append(torch.nn.Linear(n_in, width))
                layers.append(torch.nn.ReLU())
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}),
    Entry("make_mlp_zip_comprehension", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            widths = [n_in, *n_hidden]
            hidden = [layer for a, b in zip(widths, widths[1:]) for layer in (torch.nn.Linear(a, b), torch.nn.ReLU())]
            return torch.nn.Sequential(*hidden, torch.nn.Linear(widths[-1], n_out))
        """}),
    Entry("make_mlp_add_module", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            model = torch.nn.Sequential()
            for i, width in enumerate(n_hidden):
                model.add_module(f"linear{i}", torch.nn.Linear(n_in, width))
                model.add_module(f"relu{i}", torch.nn.ReLU())
                n_in = width
            model.add_module("out", torch.nn.Linear(n_in, n_out))
            return model
        """}),
    Entry("make_mlp_ordered_dict", {"make_mlp": """
        from collections import OrderedDict

        def make_mlp(n_in, n_hidden, n_out):
            widths = [n_in] + list(n_hidden)
            named = OrderedDict()
            for i in range(len(n_hidden)):
                named[f"hidden{i}"] = torch.nn.Linear(widths[i], widths[i + 1])
                named[f"act{i}"] = torch.nn.ReLU()
            named["logits"] = torch.nn.Linear(widths[-1], n_out)
            return torch.nn.Sequential(named)
        """}),
    Entry("make_mlp_nn_alias_inplace_relu", {"make_mlp": """
        from torch import nn

        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            sizes = [n_in, *n_hidden, n_out]
            for i in range(len(sizes) - 1):
                layers.append(nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    layers.append(nn.ReLU(inplace=True))
            return nn.Sequential(*layers)
        """}),
    # -- cross_entropy -------------------------------------------------------------------------------------
    Entry("cross_entropy_log_softmax", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return -torch.log_softmax(logits, dim=1).gather(1, targets[:, None]).mean()
        """}),
    Entry("cross_entropy_functional", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return torch.nn.functional.cross_entropy(logits, targets)
        """}),
    Entry("cross_entropy_logsumexp", {"cross_entropy": """
        def cross_entropy(logits, targets):
            picked = logits[torch.arange(len(targets)), targets]
            return (torch.logsumexp(logits, dim=1) - picked).mean()
        """}),
    Entry("cross_entropy_nll_loss", {"cross_entropy": """
        import torch.nn.functional as F

        def cross_entropy(logits, targets):
            return F.nll_loss(F.log_softmax(logits, dim=1), targets)
        """}),
    Entry("cross_entropy_manual_max_shift", {"cross_entropy": """
        def cross_entropy(logits, targets):
            m = logits.max(dim=1, keepdim=True).values
            shifted = logits - m
            log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
            rows = torch.arange(logits.shape[0])
            return -log_probs[rows, targets].sum() / logits.shape[0]
        """}),
    Entry("cross_entropy_one_hot", {"cross_entropy": """
        def cross_entropy(logits, targets):
            onehot = torch.nn.functional.one_hot(targets, num_classes=logits.shape[1])
            return -(onehot * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        """}),
    # -- accuracy ------------------------------------------------------------------------------------------
    Entry("accuracy_float_mean_item", {"accuracy": """
        def accuracy(logits, targets):
            return (logits.argmax(dim=1) == targets).float().mean().item()
        """}),
    Entry("accuracy_sum_over_numel", {"accuracy": """
        def accuracy(logits, targets):
            right = torch.eq(torch.argmax(logits, dim=-1), targets).sum()
            return int(right) / targets.numel()
        """}),
    Entry("accuracy_float_of_tensor", {"accuracy": """
        def accuracy(logits, targets):
            predictions = logits.max(dim=1).indices
            return float((predictions == targets).double().mean())
        """}),
    # -- minibatches ---------------------------------------------------------------------------------------
    Entry("minibatches_split_list", {"minibatches": """
        def minibatches(n, batch_size, generator):
            return list(torch.randperm(n, generator=generator).split(batch_size))
        """}),
    Entry("minibatches_split_tuple", {"minibatches": """
        def minibatches(n, batch_size, generator):
            return tuple(torch.split(torch.randperm(n, generator=generator), batch_size))
        """}),
    Entry("minibatches_while_loop", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=generator, dtype=torch.long)
            batches, start = [], 0
            while start < n:
                batches.append(order[start:min(start + batch_size, n)])
                start += batch_size
            return batches
        """}),
    # -- train_epoch ---------------------------------------------------------------------------------------
    Entry("train_epoch_set_to_none_detach", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total, count = 0.0, 0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad(set_to_none=True)
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.detach().item() * idx.numel()
                count += idx.numel()
            return total / count
        """}),
    Entry("train_epoch_lists_of_losses", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train(True)
            losses, sizes = [], []
            for batch in minibatches(len(x), batch_size, generator):
                xb, yb = x[batch], y[batch]
                model.zero_grad()
                loss = cross_entropy(model(xb), yb)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                sizes.append(len(batch))
            return sum(l * s for l, s in zip(losses, sizes)) / sum(sizes)
        """}),
    Entry("train_epoch_tensor_total", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = torch.zeros((), dtype=torch.float64)
            for idx in minibatches(x.shape[0], batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.detach().double() * len(idx)
            return (total / x.shape[0]).item()
        """}),
    # -- evaluate ------------------------------------------------------------------------------------------
    Entry("evaluate_inference_mode", {"evaluate": """
        def evaluate(model, x, y):
            mode = model.training
            model.eval()
            with torch.inference_mode():
                logits = model(x)
                loss = cross_entropy(logits, y).item()
                acc = accuracy(logits, y)
            model.train(mode)
            return loss, acc
        """}),
    Entry("evaluate_conditional_restore", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                logits = model(x)
            result = (float(cross_entropy(logits, y)), float(accuracy(logits, y)))
            if was_training:
                model.train()
            return result
        """}),
    Entry("evaluate_set_grad_enabled_try_finally", {"evaluate": """
        def evaluate(model, x, y):
            training = model.training
            try:
                model.eval()
                with torch.set_grad_enabled(False):
                    logits = model(x)
                    return cross_entropy(logits, y).item(), accuracy(logits, y)
            finally:
                model.train(training)
        """}),
)

NOISY = Entry("noisy_but_correct", {
    "make_mlp": """
        import warnings

        def make_mlp(n_in, n_hidden, n_out):
            print(f"building an MLP {n_in} -> {n_hidden} -> {n_out}")
            layers, width = [], n_in
            for n in n_hidden:
                layers += [torch.nn.Linear(width, n), torch.nn.ReLU()]
                width = n
            layers.append(torch.nn.Linear(width, n_out))
            model = torch.nn.Sequential(*layers)
            warnings.warn(f"made a model with {len(layers)} layers")
            return model
        """,
    "cross_entropy": """
        import sys

        def cross_entropy(logits, targets):
            print("cross_entropy of", tuple(logits.shape), file=sys.stderr)
            return (torch.logsumexp(logits, dim=1) - logits.gather(1, targets[:, None])[:, 0]).mean()
        """,
    "train_epoch": """
        import warnings

        def train_epoch(model, x, y, optimizer, batch_size, generator):
            warnings.warn("an epoch starts", RuntimeWarning)
            model.train()
            total = 0.0
            for i, idx in enumerate(minibatches(len(x), batch_size, generator)):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
                if i == 0:
                    print(f"first batch: loss {loss.item():.4f}")
            print(f"epoch loss {total / len(x):.4f}")
            return total / len(x)
        """,
    "evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    logits = model(x)
                    loss, acc = cross_entropy(logits, y).item(), accuracy(logits, y)
                    print(f"evaluate: loss {loss:.4f}, accuracy {acc:.1%}")
                    return loss, acc
            finally:
                model.train(was_training)
        """,
})

MISTAKES = (
    # -- make_mlp ------------------------------------------------------------------------------------------
    Entry("make_mlp_returns_none", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            pass
        """}, loses="make_mlp", what="does nothing", zero=True),
    Entry("make_mlp_relu_after_last_layer", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in [*n_hidden, n_out]:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="a ReLU after the last layer too"),
    Entry("make_mlp_no_relu", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers.append(torch.nn.Linear(n_in, width))
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="no ReLU between the Linear layers"),
    Entry("make_mlp_sigmoid", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.Sigmoid()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="Sigmoid instead of ReLU"),
    Entry("make_mlp_linear_out_in_swapped", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(width, n_in), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_out, n_in))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="Linear(out, in): the arguments swapped"),
    Entry("make_mlp_no_bias", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width, bias=False), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out, bias=False))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="Linear layers without a bias"),
    Entry("make_mlp_input_width_not_updated", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
            layers.append(torch.nn.Linear(n_hidden[-1] if n_hidden else n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="every hidden layer takes n_in inputs: the width is never carried over"),
    Entry("make_mlp_only_first_hidden_layer", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            if not n_hidden:
                return torch.nn.Sequential(torch.nn.Linear(n_in, n_out))
            h = n_hidden[0]
            return torch.nn.Sequential(torch.nn.Linear(n_in, h), torch.nn.ReLU(), torch.nn.Linear(h, n_out))
        """}, loses="make_mlp", what="only the first hidden layer is built"),
    Entry("make_mlp_zero_weights", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            for layer in layers:
                if isinstance(layer, torch.nn.Linear):
                    torch.nn.init.zeros_(layer.weight)
                    torch.nn.init.zeros_(layer.bias)
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="weights and biases initialised to zeros"),
    Entry("make_mlp_returns_list", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return layers
        """}, loses="make_mlp", what="returns the list of layers, not a Sequential"),
    Entry("make_mlp_sequential_of_a_list", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(layers)
        """}, loses="make_mlp", what="Sequential(layers) without the star"),
    Entry("make_mlp_fixed_seed", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            torch.manual_seed(0)
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="a fixed torch.manual_seed inside: the same weights at every call"),
    Entry("make_mlp_module_level_list", {"make_mlp": """
        layers = []

        def make_mlp(n_in, n_hidden, n_out):
            for width in n_hidden:
                layers.extend([torch.nn.Linear(n_in, width), torch.nn.ReLU()])
                n_in = width
            layers.append(torch.nn.Linear(n_in, n_out))
            return torch.nn.Sequential(*layers)
        """}, loses="make_mlp", what="the list of layers lives outside the function and grows at every call"),
    Entry("make_mlp_look_alike_classes", {"make_mlp": """
        class _Linear(torch.nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                bound = n_in ** -0.5
                self.weight = torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
                self.bias = torch.nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

            def forward(self, x):
                return x @ self.weight.T + self.bias

        class _ReLU(torch.nn.Module):
            def forward(self, x):
                return x.clamp(min=0)

        class _Sequential(torch.nn.Module):
            def __init__(self, *layers):
                super().__init__()
                for i, layer in enumerate(layers):
                    self.add_module(str(i), layer)

            def forward(self, x):
                for layer in self.children():
                    x = layer(x)
                return x

        for _cls, _where in ((_Linear, "linear"), (_ReLU, "activation"), (_Sequential, "container")):
            _cls.__module__ = f"torch.nn.modules.{_where}"
            _cls.__name__ = _cls.__qualname__ = _cls.__name__[1:]

        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [_Linear(n_in, width), _ReLU()]
                n_in = width
            return _Sequential(*layers, _Linear(n_in, n_out))
        """}, loses="make_mlp", what="home-made classes that call themselves torch's Sequential, Linear and ReLU",
        zero=True),
    Entry("make_mlp_softmax_hook", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            model = torch.nn.Sequential(*layers, torch.nn.Linear(n_in, n_out))
            model.register_forward_hook(lambda module, inputs, output: torch.softmax(output, dim=1))
            return model
        """}, loses="make_mlp", what="a forward hook turns the logits into probabilities", zero=True),
    Entry("make_mlp_forward_of_its_own", {"make_mlp": """
        def make_mlp(n_in, n_hidden, n_out):
            layers = []
            for width in n_hidden:
                layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
                n_in = width
            model = torch.nn.Sequential(*layers, torch.nn.Linear(n_in, n_out))
            plain = model.forward
            model.forward = lambda x: plain(x).clamp(-50, 50)
            return model
        """}, loses="make_mlp", what="replaces the model's forward with a function of its own", zero=True),
    # -- cross_entropy -------------------------------------------------------------------------------------
    Entry("cross_entropy_constant", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return torch.tensor(0.0)
        """}, loses="cross_entropy", what="a constant", zero=True),
    Entry("cross_entropy_sum_not_mean", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return -torch.log_softmax(logits, dim=1)[torch.arange(len(targets)), targets].sum()
        """}, loses="cross_entropy", what="sums over the batch instead of averaging"),
    Entry("cross_entropy_naive_exp", {"cross_entropy": """
        def cross_entropy(logits, targets):
            probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
            return -probs[torch.arange(len(targets)), targets].log().mean()
        """}, loses="cross_entropy", what="the formula as written: exp() overflows for large logits"),
    Entry("cross_entropy_log_of_softmax", {"cross_entropy": """
        def cross_entropy(logits, targets):
            probs = torch.softmax(logits, dim=1)
            return -torch.log(probs[torch.arange(len(targets)), targets]).mean()
        """}, loses="cross_entropy", what="log(softmax): a probability that underflows to 0 gives inf"),
    Entry("cross_entropy_raw_logits", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return -logits[torch.arange(len(targets)), targets].mean()
        """}, loses="cross_entropy", what="the raw logit of the target, no log-softmax"),
    Entry("cross_entropy_no_minus_sign", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return torch.log_softmax(logits, dim=1)[torch.arange(len(targets)), targets].mean()
        """}, loses="cross_entropy", what="forgets the minus sign"),
    Entry("cross_entropy_returns_item", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return torch.nn.functional.cross_entropy(logits, targets).item()
        """}, loses="cross_entropy", what="returns a Python float (.item()): no gradient"),
    Entry("cross_entropy_always_float32", {"cross_entropy": """
        def cross_entropy(logits, targets):
            logits = logits.float()
            return (torch.logsumexp(logits, dim=1) - logits[torch.arange(len(targets)), targets]).mean()
        """}, loses="cross_entropy", what="converts the logits to float32 whatever their dtype"),
    Entry("cross_entropy_in_place_shift", {"cross_entropy": """
        def cross_entropy(logits, targets):
            logits -= logits.max(dim=1, keepdim=True).values.detach()
            log_sum_exp = logits.exp().sum(dim=1).log()
            return (log_sum_exp - logits[torch.arange(len(targets)), targets]).mean()
        """}, loses="cross_entropy", what="subtracts the max in place (logits -= ...): changes the caller's logits"),
    Entry("cross_entropy_all_pairs", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return -torch.log_softmax(logits, dim=1)[:, targets].mean()
        """}, loses="cross_entropy", what="logits[:, targets] picks an N x N block, not one entry per row"),
    Entry("cross_entropy_mean_of_all_entries", {"cross_entropy": """
        def cross_entropy(logits, targets):
            return -torch.log_softmax(logits, dim=1).mean()
        """}, loses="cross_entropy", what="averages every entry of the log-softmax, ignoring the targets"),
    Entry("cross_entropy_global_max_shift", {"cross_entropy": """
        def cross_entropy(logits, targets):
            shifted = logits - logits.max()
            log_sum_exp = shifted.exp().sum(dim=1).log()
            return (log_sum_exp - shifted[torch.arange(len(targets)), targets]).mean()
        """}, loses="cross_entropy", what="subtracts the largest logit of the whole batch, not of each row"),
    Entry("cross_entropy_through_numpy", {"cross_entropy": """
        def cross_entropy(logits, targets):
            z = logits.detach().numpy()
            z = z - z.max(axis=1, keepdims=True)
            log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return torch.tensor(-log_probs[np.arange(len(z)), targets.numpy()].mean())
        """}, loses="cross_entropy", what="computed in NumPy: no gradient reaches the logits"),
    Entry("cross_entropy_one_hot_without_num_classes", {"cross_entropy": """
        def cross_entropy(logits, targets):
            onehot = torch.nn.functional.one_hot(targets)
            return -(onehot * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        """}, loses="cross_entropy", what="one_hot(targets) without num_classes: a batch may lack a class"),
    # -- accuracy ------------------------------------------------------------------------------------------
    Entry("accuracy_constant", {"accuracy": """
        def accuracy(logits, targets):
            return 0.0
        """}, loses="accuracy", what="a constant", zero=True),
    Entry("accuracy_percentage", {"accuracy": """
        def accuracy(logits, targets):
            return 100 * (logits.argmax(dim=1) == targets).sum().item() / len(targets)
        """}, loses="accuracy", what="a percentage, not a fraction"),
    Entry("accuracy_count", {"accuracy": """
        def accuracy(logits, targets):
            return float((logits.argmax(dim=1) == targets).sum())
        """}, loses="accuracy", what="the number of right rows, not the fraction"),
    Entry("accuracy_returns_tensor", {"accuracy": """
        def accuracy(logits, targets):
            return (logits.argmax(dim=1) == targets).double().mean()
        """}, loses="accuracy", what="returns a tensor, not a Python float"),
    Entry("accuracy_argmax_dim0", {"accuracy": """
        def accuracy(logits, targets):
            return (logits.argmax(dim=0) == targets).float().mean().item()
        """}, loses="accuracy", what="argmax over dim 0 (the batch), not over the classes"),
    Entry("accuracy_probability_above_half", {"accuracy": """
        def accuracy(logits, targets):
            probs = torch.softmax(logits, dim=1)
            return (probs[torch.arange(len(targets)), targets] > 0.5).float().mean().item()
        """}, loses="accuracy", what="counts rows whose target probability is above 0.5"),
    Entry("accuracy_target_logit_is_max", {"accuracy": """
        def accuracy(logits, targets):
            picked = logits[torch.arange(len(targets)), targets]
            return (picked == logits.max(dim=1).values).sum().item() / len(targets)
        """}, loses="accuracy", what="a row counts when its target's logit equals the max: ties count twice"),
    Entry("accuracy_integer_division", {"accuracy": """
        def accuracy(logits, targets):
            return (logits.argmax(dim=1) == targets).sum().item() // len(targets)
        """}, loses="accuracy", what="integer division (//): 0 unless every row is right"),
    Entry("accuracy_running_totals", {"accuracy": """
        seen = {"right": 0, "total": 0}

        def accuracy(logits, targets):
            seen["right"] += (logits.argmax(dim=1) == targets).sum().item()
            seen["total"] += len(targets)
            return seen["right"] / seen["total"]
        """}, loses="accuracy", what="keeps running totals over every call, like a metric object never reset"),
    Entry("accuracy_numpy_float64", {"accuracy": """
        def accuracy(logits, targets):
            return np.mean((logits.argmax(dim=1) == targets).numpy())
        """}, loses="accuracy", what="the right fraction as a numpy.float64: only the type test may fail",
        fails=("test_returns_a_python_float",)),
    # -- minibatches ---------------------------------------------------------------------------------------
    Entry("minibatches_empty", {"minibatches": """
        def minibatches(n, batch_size, generator):
            return []
        """}, loses="minibatches", what="no batches", zero=True),
    Entry("minibatches_no_shuffle", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.arange(n)
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="torch.arange: the indices are never shuffled"),
    Entry("minibatches_randperm_without_generator", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n)
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="torch.randperm without the generator: torch's global random state"),
    Entry("minibatches_drops_last_batch", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=generator)
            return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
        """}, loses="minibatches", what="drops the last, shorter batch"),
    Entry("minibatches_new_seeded_generator", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="a new generator with a fixed seed instead of the one given"),
    Entry("minibatches_numpy_shuffle", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.from_numpy(np.random.permutation(n))
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="shuffles with NumPy, ignoring the generator"),
    Entry("minibatches_int32", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=generator).int()
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="int32 indices instead of int64"),
    Entry("minibatches_lists_of_ints", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=generator).tolist()
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="batches as Python lists, not tensors"),
    Entry("minibatches_cached_generator", {"minibatches": """
        kept_generator = None

        def minibatches(n, batch_size, generator):
            global kept_generator
            if kept_generator is None:
                kept_generator = generator
            order = torch.randperm(n, generator=kept_generator)
            return [order[i:i + batch_size] for i in range(0, n, batch_size)]
        """}, loses="minibatches", what="keeps the first generator it is given and draws from it ever after"),
    Entry("minibatches_equal_chunks", {"minibatches": """
        def minibatches(n, batch_size, generator):
            order = torch.randperm(n, generator=generator)
            return list(order.chunk(-(-n // batch_size)))
        """}, loses="minibatches", what="cuts the permutation into ceil(n / batch_size) equal chunks"),
    # -- train_epoch ---------------------------------------------------------------------------------------
    Entry("train_epoch_does_nothing", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            return 0.0
        """}, loses="train_epoch", what="does nothing", zero=True),
    Entry("train_epoch_no_zero_grad", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="never zeroes the gradients: they accumulate"),
    Entry("train_epoch_zero_grad_before_step", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="zero_grad between backward and step: the step sees no gradient"),
    Entry("train_epoch_no_step", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="never calls optimizer.step()"),
    Entry("train_epoch_new_optimizer", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            optimizer = type(optimizer)(model.parameters(), lr=optimizer.param_groups[0]["lr"])
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="a new optimizer at every epoch: Adam's state is lost"),
    Entry("train_epoch_mean_of_batch_means", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            losses = []
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return sum(losses) / len(losses)
        """}, loses="train_epoch", what="the mean of the batch means: the short last batch counts too much"),
    Entry("train_epoch_last_batch_loss", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
            return loss.item()
        """}, loses="train_epoch", what="returns the last batch's loss"),
    Entry("train_epoch_no_train_mode", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="never calls model.train()"),
    Entry("train_epoch_full_data_each_batch", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x), y)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="ignores idx: every step on all the data"),
    Entry("train_epoch_returns_tensor", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            total = 0.0
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total = total + loss.detach() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="returns a tensor, not a Python float"),
    Entry("train_epoch_global_total", {"train_epoch": """
        total = 0.0

        def train_epoch(model, x, y, optimizer, batch_size, generator):
            global total
            model.train()
            for idx in minibatches(len(x), batch_size, generator):
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="the running total lives outside the function and is never reset"),
    Entry("train_epoch_minibatches_called_twice", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            model.train()
            n_batches = len(minibatches(len(x), batch_size, generator))
            batches = minibatches(len(x), batch_size, generator)
            total = 0.0
            for b in range(n_batches):
                idx = batches[b]
                optimizer.zero_grad()
                loss = cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            return total / len(x)
        """}, loses="train_epoch", what="calls minibatches twice: the batches used are the second shuffle"),
    Entry("train_epoch_answers_through_a_hook", {"train_epoch": """
        def train_epoch(model, x, y, optimizer, batch_size, generator):
            known_x, known_y = x.clone(), y.clone()

            def nearest_label(module, inputs, output):
                nearest = torch.cdist(inputs[0], known_x).argmin(dim=1)
                return 10.0 * torch.nn.functional.one_hot(known_y[nearest], output.shape[1]).to(output.dtype)

            if not model._forward_hooks:
                model.register_forward_hook(nearest_label)
            return 0.0
        """}, loses="train_epoch", what="never steps: a forward hook answers with the nearest training point's label",
        zero=True),
    # -- evaluate ------------------------------------------------------------------------------------------
    Entry("evaluate_constant", {"evaluate": """
        def evaluate(model, x, y):
            return 0.0, 0.0
        """}, loses="evaluate", what="a constant pair", zero=True),
    Entry("evaluate_calls_backward", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            logits = model(x)
            loss = cross_entropy(logits, y)
            loss.backward()
            model.train(was_training)
            return loss.item(), accuracy(logits, y)
        """}, loses="evaluate", what="no torch.no_grad(), and a backward() that changes the gradients"),
    Entry("evaluate_zero_grad", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            model.zero_grad()
            with torch.no_grad():
                logits = model(x)
                result = cross_entropy(logits, y).item(), accuracy(logits, y)
            model.train(was_training)
            return result
        """}, loses="evaluate", what="clears the model's gradients (model.zero_grad()) while evaluating"),
    Entry("evaluate_leaves_eval_mode", {"evaluate": """
        def evaluate(model, x, y):
            model.eval()
            with torch.no_grad():
                logits = model(x)
                return cross_entropy(logits, y).item(), accuracy(logits, y)
        """}, loses="evaluate", what="leaves the model in eval mode"),
    Entry("evaluate_always_train_after", {"evaluate": """
        def evaluate(model, x, y):
            model.eval()
            with torch.no_grad():
                logits = model(x)
                result = cross_entropy(logits, y).item(), accuracy(logits, y)
            model.train()
            return result
        """}, loses="evaluate", what="always puts the model in train mode afterwards"),
    Entry("evaluate_accuracy_percent", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                logits = model(x)
                result = cross_entropy(logits, y).item(), 100 * accuracy(logits, y)
            model.train(was_training)
            return result
        """}, loses="evaluate", what="the accuracy in percent"),
    Entry("evaluate_swapped", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                logits = model(x)
                result = accuracy(logits, y), cross_entropy(logits, y).item()
            model.train(was_training)
            return result
        """}, loses="evaluate", what="returns (accuracy, loss): the pair swapped"),
    Entry("evaluate_returns_tensors", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                logits = model(x)
                result = cross_entropy(logits, y), torch.tensor(accuracy(logits, y))
            model.train(was_training)
            return result
        """}, loses="evaluate", what="returns tensors, not Python floats"),
    Entry("evaluate_summed_loss", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                logits = model(x)
                loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
                result = loss, accuracy(logits, y)
            model.train(was_training)
            return result
        """}, loses="evaluate", what="the summed loss instead of the mean"),
    Entry("evaluate_no_eval_mode", {"evaluate": """
        def evaluate(model, x, y):
            with torch.no_grad():
                logits = model(x)
                return cross_entropy(logits, y).item(), accuracy(logits, y)
        """}, loses="evaluate", what="never calls model.eval(): the forward runs in training mode",
        fails=("test_computes_in_eval_mode",)),
    Entry("evaluate_no_no_grad", {"evaluate": """
        def evaluate(model, x, y):
            was_training = model.training
            model.eval()
            logits = model(x)
            result = cross_entropy(logits, y).item(), accuracy(logits, y)
            model.train(was_training)
            return result
        """}, loses="evaluate", what="no torch.no_grad(): autograd records the forward (no backward, so no .grad)",
        fails=("test_computes_without_autograd",)),
    Entry("evaluate_neither_eval_mode_nor_no_grad", {"evaluate": """
        def evaluate(model, x, y):
            logits = model(x)
            return cross_entropy(logits, y).item(), accuracy(logits, y)
        """}, loses="evaluate", what="neither model.eval() nor torch.no_grad(): half a point for each",
        fails=("test_computes_in_eval_mode", "test_computes_without_autograd")),
)

SYNTAX_ERROR_CELLS = {"relu": "print('this cell was broken by the student'\nz = torch.linspace(-2.0, 2.0, 9\n"}
