"""The ``minirnn`` command: classic RNN exercises, end to end.

    minirnn by-hand srn [--backward]    the all-ones SRN, step by step (forward and BPTT)
    minirnn by-hand lstm [--backward]   the hand-wired lecture LSTM (and its BPTT)
    minirnn hello                       "hello" -> "ohlol"
    minirnn digitsum                    SRN / LSTM / GRU memory vs sequence length
    minirnn explode                     exploding gradients, and clipping
    minirnn vanish                      vanishing gradients: |dL/dh_t| per step, SRN/LSTM/GRU
    minirnn seq2seq [--task dates]      hello -> hola, or dates -> ISO 8601 with attention
    minirnn charlm [--compare]          a character language model (--compare: five of them)
    minirnn digits [--mnist DIR]        SRN / LSTM / GRU on handwritten digits, row by row
    minirnn compare                     minirnn next to torch (demos/compare.py)
    minirnn trace {srn,lstm,gru}        an HTML page stepping through BPTT, every number
    minirnn gradcheck                   every backward against finite differences
    minirnn exercise {srn,lstm,gru}     write a BPTT exercise to fill in
    minirnn check FILE                  check it, one rung at a time
    minirnn bench [--quick ...]         the layer benchmark against torch
                                        (benchmarks/bench_rnn.py)

Every subcommand takes --seed and --out DIR (default ./out/<subcommand>; by-hand:
./out/by-hand/srn or ./out/by-hand/lstm), where it writes its plots (PNG) and a summary.json of
the numbers it printed. `compare` and `bench` use torch, which the package never imports: they
run scripts of the source checkout in a separate process. Bad arguments and unusable input end
with a one-line message and a non-zero exit status, never a traceback (set MINIRNN_DEBUG=1 to
see one); so does a flag that would do nothing (by-hand --seed: nothing there is random).
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

from . import __version__
from ._config import get_impl
from .demos._common import write_summary


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: 'minirnn digitsum: error: ... (see --help)'."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---- argument types: a bad value becomes a one-line usage error --------------------------

def _choice_list(choices):
    def parse(text):
        items = [s.strip().lower() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown model {', '.join(map(repr, bad)) or repr(text)} "
                f"(choose from {', '.join(choices)}, comma-separated)")
        return tuple(items)
    return parse


def _lengths(text):
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values:
        raise argparse.ArgumentTypeError("expected at least one length")
    short = [v for v in values if v < 3]
    if short:
        raise argparse.ArgumentTypeError(
            f"length {short[0]} is too short: a DigitSum sequence needs at least 3 digits "
            f"(the two to add and one noise position)")
    long = [v for v in values if v > MAX_LENGTH]
    if long:
        raise argparse.ArgumentTypeError(f"length {long[0]} is too long: expected lengths "
                                         f"in 3..{MAX_LENGTH}")
    return values


def _int_in(low, high):
    """An argparse type: an integer in [low, high], else a usage error naming the range."""
    expected = f"{'a positive integer' if low == 1 else 'an integer'} in {low}..{high}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    parse.__name__ = "integer"              # argparse names the type in some messages
    return parse


def _float_in(low, high):
    """An argparse type: a finite number in [low, high] (nan and inf refused)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in [{low:g}, {high:g}], "
                                             f"got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"expected a finite number in [{low:g}, "
                                             f"{high:g}], got {text!r}")
        return value
    parse.__name__ = "number"
    return parse


# Ranges: generous for experiments, small enough that no value ends in a MemoryError or in
# hours of work before the first line of output.
MAX_EPOCHS = 1_000_000
MAX_K = 1_000                   # noisy copies per digit pair: 100·k training examples
MAX_LENGTH = 1_000              # DigitSum sequence length
MAX_HIDDEN, MAX_LAYERS = 4_096, 16
_epochs = _int_in(1, MAX_EPOCHS)
_seed_int = _int_in(0, 2**63 - 1)


def _trace_size(what, high):
    """An argparse type for the trace page's sizes: 1..high, else an error saying why."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected 1..{high} {what}, got {text!r}") from None
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected 1..{high} {what}, got {value}: the page shows every number, so "
                f"its networks stay small")
        return value
    parse.__name__ = "integer"
    return parse


def _text(text):
    if not text:
        raise argparse.ArgumentTypeError("expected a non-empty text")
    return text


# ---- the parser ----------------------------------------------------------------------------

def build_parser():
    parser = _Parser(prog="minirnn", description="Classic RNN exercises with minirnn: "
                     "pure-NumPy RNN, LSTM and GRU with hand-written backpropagation through "
                     "time.", epilog="Run 'minirnn <subcommand> --help' for its options.")
    parser.add_argument("--version", action="version", version=f"minirnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<subcommand>")

    def command(name, help_text, description, seed_help=None, out_default=None):
        p = sub.add_parser(name, help=help_text, description=description)
        p.set_defaults(_parser=p)          # main reports a bad --out through it
        p.add_argument("--seed", type=_seed_int, default=None,
                       help=seed_help or "random seed, an integer >= 0 (default: the demo's "
                                         "own, the one the documented numbers used)")
        p.add_argument("--out", metavar="DIR", default=None,
                       help=f"folder for plots and summary.json (default: "
                            f"{out_default or './out/' + name})")
        return p

    p = command("by-hand", "tiny networks worked out step by step",
                "srn: the 2-2-2 SRN with every weight 1 (outputs 4, 12, 32 without an "
                "activation; 1.928..., 1.998..., 1.99997... with tanh). lstm: the hand-wired "
                "lecture LSTM (outputs 0 0 0 0 0 7 0 0 6).",
                seed_help="refused: the weights are fixed and nothing is random",
                out_default="./out/by-hand/srn or ./out/by-hand/lstm")
    p.add_argument("network", choices=("srn", "lstm"), help="which network")
    p.add_argument("--backward", action="store_true",
                   help="also print BPTT step by step with every intermediate value: srn for "
                        "the loss L = sum of all outputs (dh, da, dW_ih, dW_hh, dW_out, db); "
                        "lstm through the standard LSTM for L = sum of the h_t (dh, dc, do, "
                        "di, df, dg, da, dc_next, dh_next, the running sums of dW)")

    p = command("hello", '"hello" -> "ohlol" with an RNNCell and an Embedding-RNN',
                "Learn to map 'hello' to 'ohlol': an RNNCell(4, 4) whose hidden state is the "
                "logits (loss summed over the 5 steps, Adam lr 0.1), then Embedding -> "
                "2-layer RNN -> Linear. Prints the predicted string and loss every epoch.")
    p.add_argument("--epochs", type=_epochs, default=None, help="epochs (default 15)")

    p = command("digitsum", "SRN / LSTM / GRU on DigitSum at growing lengths",
                "The long-range dependency experiment: sum the first two digits of a noisy "
                "digit sequence. The default run trains every model at lengths 5 and 10 with "
                "the book's recipe (minutes on 2 cores); --full runs every model at 5..35 "
                "(hours on 2 cores; README says what the documented runs took).")
    p.add_argument("--models", type=_choice_list(("srn", "lstm", "gru")), default=None,
                   help="comma-separated, from srn, lstm, gru (default: all three)")
    p.add_argument("--lengths", type=_lengths, default=None,
                   help="comma-separated sequence lengths >= 3 (default 5,10; --full: "
                        "5,10,...,35)")
    p.add_argument("--recipe", choices=("book", "better"), default=None,
                   help="book: k=3 (300 examples), Adam 1e-3, batch 8, 500 epochs. better: "
                        "k=100 (10,000 examples), batch 32, Adam 3e-3, clipping at 1, 50 "
                        "epochs")
    p.add_argument("--full", action="store_true",
                   help="every model at every length with the recipe's full epochs "
                        "(hours on 2 cores)")
    p.add_argument("--epochs", type=_epochs, default=None,
                   help="override the number of epochs")
    p.add_argument("--k", type=_int_in(1, MAX_K), default=None,
                   help=f"noisy training copies of each of the 100 digit pairs, 1..{MAX_K} "
                        f"(book: 3)")
    p.add_argument("--clip", type=_float_in(0, 1e6), default=None, metavar="NORM",
                   help="clip the gradient norm at NORM >= 0 (0: no clipping); overrides the "
                        "recipe")
    p.add_argument("--forget-bias", type=_float_in(-100, 100), default=None, metavar="B",
                   help="LSTM: initialise the forget gate's bias to B, in [-100, 100]")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="read DIR/<length>/{train,dev,test}.txt instead of generating data")
    p.add_argument("--save-data", metavar="DIR", default=None,
                   help="write the data used to DIR/<length>/{train,dev,test}.txt")
    p.add_argument("--seeds", type=_int_in(1, 100), default=None, metavar="K",
                   help="train every model at every length for K seeds (--seed, --seed+1, "
                        "...) and report the mean and range; 1..100 (default 1)")
    p.add_argument("--results", metavar="FILE", default=None,
                   help="also write the results (every run, mean and range, gates, loss "
                        "curves) to the JSON FILE that tools/update_results.py builds the "
                        "docs from, e.g. docs/digitsum/book.json")
    p.add_argument("--explode", action="store_true",
                   help="run the gradient-explosion experiment instead (same as 'minirnn "
                        "explode')")

    p = command("explode", "exploding gradients in an SRN, with and without clipping",
                "An SRN at DigitSum length 20, SGD lr 0.2 on the summed loss: the L2 norm of "
                "each weight's gradient at every step, without and with clip_grad_norm_ at 5.")
    p.add_argument("--epochs", type=_epochs, default=None, help="epochs (default 50)")
    p.add_argument("--results", metavar="FILE", default=None,
                   help="also write the W_hh gradient norms and the numbers printed to the "
                        "JSON FILE the README's figure is drawn from (docs/digitsum/"
                        "explode.json)")

    p = command("vanish", "vanishing gradients: the gradient norm at every step, SRN / LSTM / GRU",
                "DigitSum at length 35, loss on the last output only: the norm of dL/dh_t at "
                "every step t for the SRN, LSTM and GRU, at initialisation and after training "
                "(6 epochs of the book recipe; --full: its 500), and the spectral radius of the "
                "SRN's W_hh.")
    p.add_argument("--full", action="store_true",
                   help="train with the book recipe's full budget (500 epochs, several minutes)")
    p.add_argument("--epochs", type=_epochs, default=None,
                   help="override the number of training epochs (default 6)")

    p = command("seq2seq", "encoder–decoder: hello->hola (toy), or dates -> ISO 8601",
                "A character-level encoder–decoder trained with teacher forcing. --task toy "
                "(default, seconds): hello->hola, cat->gato, good->bueno, decoded greedily. "
                "--task dates: dates in twelve human forms -> ISO 8601 (10,000 training "
                "pairs, test dates unseen in training), without and with additive attention, "
                "greedy and beam-search decoding, exact match and BLEU on the test split, an "
                "attention heat map.")
    p.add_argument("--task", choices=("toy", "dates"), default="toy",
                   help="toy: three word pairs (default); dates: the dates task")
    p.add_argument("--cell", choices=("rnn", "gru", "lstm"), default=None,
                   help="recurrent layer of encoder and decoder (default: rnn for toy, gru "
                        "for dates)")
    p.add_argument("--epochs", type=_epochs, default=None,
                   help="epochs (default: toy 150; dates 2, --full 8)")
    p.add_argument("--full", action="store_true",
                   help="dates: the long run (8 epochs per model, several minutes)")

    p = command("charlm", "a character language model with text generation",
                "Train a character LM, report training and held-out perplexity per epoch "
                "against a unigram baseline, then generate text greedily and by sampling. "
                "Default corpus: Python's own help texts (first 100k characters; --full: all).")
    p.add_argument("--model", choices=("rnn", "gru", "lstm"), default="lstm",
                   help="recurrent layer (default lstm)")
    p.add_argument("--layers", type=_int_in(1, MAX_LAYERS), default=1,
                   help=f"stacked layers, 1..{MAX_LAYERS} (e.g. --model lstm --layers 2)")
    p.add_argument("--hidden", type=_int_in(1, MAX_HIDDEN), default=None,
                   help=f"hidden size, 1..{MAX_HIDDEN} (256)")
    p.add_argument("--sampling", choices=("random", "sequential"), default="random",
                   help="random windows (state reset each batch) or sequential (state "
                        "carried across batches)")
    p.add_argument("--corpus", metavar="FILE", default=None,
                   help="any UTF-8 text file (Chinese works too)")
    p.add_argument("--max-chars", type=_int_in(2, 2**62), default=None,
                   help="use only the first N characters")
    p.add_argument("--epochs", type=_epochs, default=None, help="epochs (12; --full 20)")
    p.add_argument("--full", action="store_true", help="the whole corpus, more epochs")
    p.add_argument("--prefix", action="append", default=None, type=_text,
                   help="text to continue (repeatable)")
    p.add_argument("--bidirectional", action="store_true",
                   help="refused: a bidirectional model sees the characters it should predict")
    p.add_argument("--compare", action="store_true",
                   help="train RNN, GRU, LSTM, a 2-layer LSTM and a bidirectional LSTM (shown "
                        "only to make the point that it sees the future) on the same corpus "
                        "and budget: one perplexity table and plot (hidden 64, 8 epochs on "
                        "30k characters, about a minute; --full: 200k characters, 10 epochs)")

    p = command("digits", "SRN / LSTM / GRU on handwritten digits, one pixel row per step",
                "Sequence classification of real handwritten digits: scikit-learn's 8x8 digits "
                "(1,797 images, no download; pip install minirnn[digits]) read as 8 steps of 8 "
                "pixels, or MNIST's IDX files (--mnist DIR) as 28 steps of 28. Test accuracy "
                "per cell, confusion matrices and the misclassified digits. About 20 s; --full "
                "about 2 minutes.")
    p.add_argument("--models", type=_choice_list(("srn", "lstm", "gru")), default=None,
                   help="comma-separated, from srn, lstm, gru (default: all three)")
    p.add_argument("--full", action="store_true",
                   help="hidden 128, 60 epochs (MNIST: all 55,000 training images, 15 epochs)")
    p.add_argument("--epochs", type=_epochs, default=None,
                   help="override the number of epochs (25; --full 60; MNIST 4)")
    p.add_argument("--hidden", type=_int_in(1, MAX_HIDDEN), default=None,
                   help="hidden size (64; --full and MNIST 128)")
    p.add_argument("--mnist", metavar="DIR", default=None,
                   help="read MNIST from DIR: train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may end in .gz)")
    p.add_argument("--max-train", type=_int_in(1, 10 ** 7), default=None, metavar="N",
                   help="use only N training images (MNIST's default: 10,000)")

    p = command("trace", "an HTML page stepping through BPTT with every number",
                "Write one self-contained HTML page (no network needed) that steps through "
                "the forward and the backward sweep of a small network, every number recorded "
                "from the textbook tier, and print its path. srn: the by-hand SRN; lstm: the "
                "lecture LSTM with sigmoid and tanh; gru: a small GRU. --hidden, --steps or "
                "--seed draw a random network instead (2 inputs).")
    p.add_argument("network", choices=("srn", "lstm", "gru"), help="which cell")
    p.add_argument("--loss", choices=("sum", "last", "xent"), default="sum",
                   help="what the backward starts from: sum (every output summed, the "
                        "default), last (the last output summed), xent (softmax "
                        "cross-entropy of the last output with target class 0)")
    p.add_argument("--hidden", type=_trace_size("hidden units", 4), default=None,
                   help="random network: hidden units, 1..4 (default 2)")
    p.add_argument("--steps", type=_trace_size("steps", 12), default=None,
                   help="random network: time steps, 1..12 (default 4)")

    # compare and bench use torch, so they are scripts of the checkout, run as their own
    # process (see _run_script); these entries only list them, and their --help is the script's
    for name, help_text in _SCRIPTS_HELP.items():
        sub.add_parser(name, help=help_text, add_help=False)

    command("gradcheck", "every layer's backward against finite differences",
            "Run minirnn.gradcheck on every layer type and print the worst relative error "
            "per parameter -- the thing to run after changing a backward.")

    # the exercises have their own arguments and exit statuses (main() hands them over)
    from .exercises import add_check_arguments, add_exercise_arguments
    add_exercise_arguments(sub.add_parser(
        "exercise", help="write an exercise: a cell's forward and BPTT to fill in",
        description="Write <cell>_exercise.py: the equations and four functions to fill in "
                    "(an existing file is kept unless --force)."))
    add_check_arguments(sub.add_parser(
        "check", help="check an exercise file, one rung at a time",
        description="Check an exercise: signatures, step forward, step backward (finite "
                    "differences, then the textbook), sequence forward, BPTT. Stops at the "
                    "first failing check and says which quantity is wrong."))
    return parser


# ---- running a subcommand ------------------------------------------------------------------

_SCRIPTS = {"compare": ("demos", "compare.py"), "bench": ("benchmarks", "bench_rnn.py")}
_SCRIPTS_HELP = {"compare": "minirnn next to torch: parameters, agreement, speed (torch optional)",
                 "bench": "time minirnn's layers against torch's (needs torch)"}


def _run_script(name, argv):
    """Run the checkout's script for ``name`` with ``argv`` in a new Python process, relaying
    its output; exits with its status. A separate process keeps torch out of this one."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, *_SCRIPTS[name])
    if not os.path.exists(path):
        print(f"minirnn {name}: error: {'/'.join(_SCRIPTS[name])} is part of the source "
              f"checkout, not of the installed package; run it from a clone "
              f"(pip install -e .[test])", file=sys.stderr)
        raise SystemExit(1)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen([sys.executable, path, *argv], stdout=subprocess.PIPE, text=True,
                          env=env) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
    raise SystemExit(proc.returncode)


def _seed(args, demo):
    return demo.SEED if args.seed is None else args.seed


def _out(args):
    """The folder the subcommand writes into: --out, else out/<subcommand> (by-hand:
    out/by-hand/<network>, so that srn and lstm keep their own summary.json)."""
    explode = args.command == "digitsum" and args.explode
    if args.out:
        return args.out
    if args.command == "by-hand":
        return os.path.join("out", "by-hand", args.network)
    return os.path.join("out", "explode" if explode else args.command)


def unwritable_folder(option, folder):
    """'' when ``folder`` is a folder this process can write into (created if missing), else
    a one-line reason naming ``option`` and what was expected. Checked before any work, so a
    bad --out fails at once, not after all the training."""
    try:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:
        return f"{option} {folder!r} is a file; expected a folder to write into"
    except OSError as e:
        return f"{option} {folder!r}: cannot create it ({e.strerror}); expected a folder to " \
               f"write into"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return f"{option} {folder!r}: cannot write into it ({e.strerror}); expected a " \
               f"writable folder"
    return ""


def flags_doing_nothing(args):
    """[(flag, why)] for each flag given that would change nothing in this run: a flag that
    does nothing is an error, never silently ignored."""
    name, idle = args.command, []
    if name == "by-hand" and args.seed is not None:
        idle.append(("--seed", "by-hand's weights are fixed and nothing in it is random"))
    if name == "digitsum" and args.explode:
        for flag, value in (("--models", args.models), ("--lengths", args.lengths),
                            ("--recipe", args.recipe), ("--full", args.full), ("--k", args.k),
                            ("--clip", args.clip), ("--forget-bias", args.forget_bias),
                            ("--data", args.data), ("--save-data", args.save_data),
                            ("--seeds", args.seeds)):
            if value not in (None, False):
                idle.append((flag, "--explode runs the explosion experiment with its own "
                                   "settings (minirnn explode --help)"))
    elif name == "digitsum":
        if args.data is not None and args.k is not None:
            idle.append(("--k", "it sets how much data is generated, and --data reads the data "
                                "instead"))
        if args.forget_bias is not None and args.models and "lstm" not in args.models:
            idle.append(("--forget-bias", "it initialises the LSTM's forget gate, and --models "
                                          "has no lstm"))
        if args.full and args.models and args.lengths and args.epochs is not None:
            idle.append(("--full", "it chooses the models, lengths and epochs, and --models, "
                                   "--lengths and --epochs give all three"))
    if name == "vanish" and args.full and args.epochs is not None:
        idle.append(("--full", "it sets the number of epochs, and --epochs gives it"))
    if name == "seq2seq" and args.full and args.task == "toy":
        idle.append(("--full", "it lengthens the dates task only (--task dates)"))
    if name == "charlm" and args.full and args.epochs is not None and args.max_chars is not None:
        idle.append(("--full", "it sets the epochs and the corpus size, and --epochs and "
                               "--max-chars give both"))
    return idle


def run_command(args):
    """Run the parsed subcommand; returns (output folder, numbers to save)."""
    name = args.command
    out = _out(args)
    idle = flags_doing_nothing(args)
    if idle:
        flag, why = idle[0]
        raise ValueError(f"{flag} would do nothing here: {why}; drop it")
    if name == "by-hand":
        from .demos import by_hand
        if args.network == "srn":
            return out, by_hand.run_srn(backward=args.backward, out=out)
        return out, by_hand.run_lstm(out=out, backward=args.backward)
    if name == "hello":
        from .demos import hello
        return out, hello.run(seed=_seed(args, hello), epochs=args.epochs, out=out)
    if name == "explode" or (name == "digitsum" and args.explode):
        from .demos import explode
        return out, explode.run(seed=_seed(args, explode), epochs=args.epochs, out=out,
                                results=getattr(args, "results", None))
    if name == "digitsum":
        from .demos import digitsum
        overrides = {}
        if args.clip is not None:
            overrides["clip"] = args.clip or None            # 0 switches clipping off
        if args.forget_bias is not None:
            overrides["forget_bias"] = args.forget_bias
        return out, digitsum.run(models=args.models, lengths=args.lengths,
                                 recipe=args.recipe or "book",
                                 full=args.full, epochs=args.epochs, k=args.k,
                                 seed=_seed(args, digitsum), out=out, data_dir=args.data,
                                 save_data=args.save_data, overrides=overrides,
                                 seeds=args.seeds or 1, results=args.results)
    if name == "vanish":
        from .demos import vanish
        return out, vanish.run(full=args.full, epochs=args.epochs, seed=_seed(args, vanish),
                               out=out)
    if name == "seq2seq":
        from .demos import seq2seq
        return out, seq2seq.run(cell=args.cell, seed=_seed(args, seq2seq), epochs=args.epochs,
                                out=out, task=args.task, full=args.full)
    if name == "charlm" and args.compare:
        from .demos import charlm_compare
        fixed = [flag for flag, used in (("--model", args.model != "lstm"),
                                         ("--layers", args.layers != 1),
                                         ("--sampling", args.sampling != "random"),
                                         ("--prefix", args.prefix is not None),
                                         ("--bidirectional", args.bidirectional)) if used]
        if fixed:
            raise ValueError(f"--compare trains its own five models with random sampling and "
                             f"generates no text; drop {', '.join(fixed)}")
        return out, charlm_compare.run(hidden=args.hidden or charlm_compare.HIDDEN,
                                       epochs=args.epochs, full=args.full,
                                       corpus_path=args.corpus, max_chars=args.max_chars,
                                       seed=_seed(args, charlm_compare), out=out)
    if name == "charlm":
        from .demos import charlm
        return out, charlm.run(cell=args.model, layers=args.layers,
                               hidden=args.hidden or charlm.HIDDEN, sampling=args.sampling,
                               corpus_path=args.corpus, epochs=args.epochs, full=args.full,
                               max_chars=args.max_chars, prefixes=args.prefix,
                               bidirectional=args.bidirectional, seed=_seed(args, charlm),
                               out=out)
    if name == "digits":
        from .demos import digits
        return out, digits.run(cells=args.models or digits.CELLS, full=args.full,
                               mnist=args.mnist, epochs=args.epochs, hidden=args.hidden,
                               max_train=args.max_train, seed=_seed(args, digits), out=out)
    if name == "trace":
        from .trace.command import run
        return out, run(args.network, loss=args.loss, hidden=args.hidden, steps=args.steps,
                        seed=args.seed, out=out)
    if name == "gradcheck":
        from .demos import gradcheck
        return out, gradcheck.run(seed=_seed(args, gradcheck))
    raise AssertionError(name)


def script_main(command, *default_args):
    """Entry of a checkout script ``demos/<name>.py``: ``minirnn <command> default_args...``
    followed by the script's own command-line arguments, which come last and so win. The
    script gets the subcommand's parser: ``--help``, checked values, one-line errors."""
    return main([command, *default_args, *sys.argv[1:]])


def main(argv=None):
    """Entry point of the ``minirnn`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        get_impl()                   # reads MINIRNN_IMPL: a bad value is one line, not a traceback
    except ValueError as e:
        print(f"minirnn: error: {e}", file=sys.stderr)
        return 2
    if argv[:1] and argv[0] in _SCRIPTS:
        _run_script(argv[0], argv[1:])
    if argv[:1] in (["exercise"], ["check"]):
        from .exercises import check_main, exercise_main
        return (exercise_main if argv[0] == "exercise" else check_main)(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    folders = [("--out", _out(args))]
    if getattr(args, "save_data", None):
        folders.append(("--save-data", args.save_data))
    for option, folder in folders:
        problem = unwritable_folder(option, folder)
        if problem:
            args._parser.error(problem)
    try:
        out, result = run_command(args)
        write_summary(out, result)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # e.g. `minirnn by-hand srn | head`: the reader left
        sys.stdout = open(os.devnull, "w")
        return 0
    except (ValueError, OSError, ImportError) as e:
        # bad input (a missing or empty corpus, a malformed data file, a refused option):
        # the message says what is wrong; a traceback would only hide it
        if os.environ.get("MINIRNN_DEBUG"):
            raise
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"minirnn {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
