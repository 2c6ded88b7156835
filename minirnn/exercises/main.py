"""``minirnn exercise`` and ``minirnn check``: argument parsing, and what each prints.

Both take argv and return the exit status (0 success, 1 a failed check, a hang or a refused
write, 2 bad arguments: a --seed below 0, a --timeout out of range, a --dir too long to use, a
symbolic link where the exercise file goes; 130 Ctrl-C); they print messages, never a
traceback. ``add_exercise_arguments`` and ``add_check_arguments`` fill an argparse parser, so
minirnn/cli.py can use them for its subcommands.
"""
import argparse
import math
import sys
from pathlib import Path

from .._io import atomic_write
from .cells import CELLS
from .checker import TIMEOUT, check_file
from .student import Interrupted
from .templates import exercise_filename, exercise_source


class _Parser(argparse.ArgumentParser):
    """A usage error is one line, as for every minirnn command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_exercise_arguments(parser):
    parser.add_argument("cell", choices=tuple(CELLS), help="which cell to implement")
    parser.add_argument("--dir", default=".", metavar="DIR",
                        help="folder to write <cell>_exercise.py in (default: here)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the file if it exists (your work in it is lost)")
    return parser


def _seed(text):
    """An integer >= 0 (NumPy's generators take no negative seed)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def add_check_arguments(parser):
    parser.add_argument("file", help="your exercise file, e.g. lstm_exercise.py")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="seed of the random numbers the checks use (default 0)")
    parser.add_argument("--timeout", type=_seconds, default=TIMEOUT, metavar="SECONDS",
                        help="time each check (and importing the file) may take before your "
                             f"code is stopped as a hang, 0 < SECONDS <= 3600 "
                             f"(default {TIMEOUT:g})")
    return parser


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 3600):
        raise argparse.ArgumentTypeError(f"expected a number of seconds in (0, 3600], "
                                         f"got {text!r}")
    return value


def _parse(prog, description, add, argv):
    parser = add(_Parser(prog=prog, description=description))
    try:
        return parser.parse_args(list(argv)), None
    except SystemExit as e:          # --help (0) or a usage error (2), already printed
        return None, 0 if e.code in (0, None) else 2


def run_exercise(args):
    """Write the exercise file ``args`` name; the exit status."""
    path = Path(args.dir) / exercise_filename(args.cell)
    try:
        link, exists = path.is_symlink(), path.exists()
    except OSError as e:                      # a name too long, say
        return _usage_error(f"cannot use --dir {args.dir}: {e.strerror or e}")
    if link:                                  # writing through it could land outside --dir
        return _usage_error(f"{path} is a symbolic link: not written through; remove it or "
                            f"use another --dir")
    if exists and not args.force:
        print(f"minirnn exercise: {path} already exists (your work?): not overwritten. "
              "Use --force to start again, or --dir to write elsewhere")
        return 1
    try:
        with atomic_write(path, encoding="utf-8") as f:     # whole, or not at all
            f.write(exercise_source(args.cell))
    except OSError as e:
        print(f"minirnn exercise: cannot write {path}: {e.strerror or e}")
        return 1
    print(f"wrote {path}: fill in its four functions, top to bottom, then run\n"
          f"    minirnn check {path}")
    return 0


def _usage_error(message):
    print(f"minirnn exercise: error: {message}", file=sys.stderr)
    return 2


def run_check(args):
    """Check the file ``args`` names; the exit status: 0 only when every check ran and
    passed, 1 otherwise, 130 on Ctrl-C."""
    try:
        return 0 if check_file(args.file, seed=args.seed, timeout=args.timeout) else 1
    except Interrupted:
        print("✗ interrupted (Ctrl-C): the checks did not finish, so nothing is known to be "
              "right", flush=True)
        return 130


def exercise_main(argv):
    """``minirnn exercise {srn,lstm,gru} [--dir DIR] [--force]``; returns the exit status."""
    args, status = _parse("minirnn exercise", "Write an exercise: the equations and the "
                          "four functions of a cell's forward and BPTT backward, to fill in.",
                          add_exercise_arguments, argv)
    return status if args is None else run_exercise(args)


def check_main(argv):
    """``minirnn check FILE [--seed N] [--timeout SECONDS]``; returns the exit status (0: every
    check ran and passed)."""
    args, status = _parse("minirnn check", "Check an exercise file: signatures, step forward, "
                          "step backward (finite differences, then the textbook), sequence "
                          "forward, BPTT. Stops at the first failing check and says why.",
                          add_check_arguments, argv)
    return status if args is None else run_check(args)
