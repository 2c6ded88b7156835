"""The student's side, seen from the checker: where their functions run, and with what limits.

Two ways to run them, behind one interface (``functions``, ``call``, ``reset``, ``close``):

    Child    a file: loaded and run in a child process (child.py). The checker keeps the clock:
             a call that does not return in time is a hang and the process is stopped; an
             ``exit()``, a crash or a Ctrl-C end the check with a verdict, never a pass.
    InProcess  a notebook's or module's functions: run here. A time limit needs SIGALRM
             (POSIX, main thread): there, a call over the limit is interrupted between two
             Python instructions; elsewhere there is no time limit (see docs/guarantees.md).

Both return what the functions returned in the same plain form (tuples, dicts, numeric arrays,
handles for anything else; see child.py). ``explain(name, info)``, set by the ladder, gives the
hint lines for an exception. Nothing here lets a student's exception escape as a
traceback: a problem becomes ``Stop``, whose lines the checker prints, or ``NotWritten`` for a
function that still raises NotImplementedError.
"""
import itertools
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import child
from .cells import CELLS

CHILD = Path(child.__file__).resolve()
START_LIMIT = 60.0        # seconds for a fresh Python to import NumPy: ours, not the student's


class Stop(Exception):
    """The check stops here; ``lines`` say what is wrong and what to try."""

    def __init__(self, *lines):
        super().__init__(lines[0])
        self.lines = lines


class NotWritten(Exception):
    """The function named ``name`` still raises NotImplementedError."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class Interrupted(Exception):
    """Ctrl-C while the checker waited for the student's code."""


def contracts():
    """{function name: its argument names} for every cell's functions."""
    return {name: list(cell.arguments(name)) for cell in CELLS.values() for name in cell.functions}


def verdict_for(name, info, hint=()):
    """NotWritten or Stop for ``info``, what child.raised said about an exception in ``name``
    (a function, or 'FILE' while it was imported); ``hint``: lines to show for an error."""
    kind, where = info["kind"], info["where"]
    if kind == "not_written" and not name.endswith(".py"):
        return NotWritten(name)
    if kind == "exit":
        return Stop(f"✗ {name} called exit() or sys.exit({_code(info)}){where}: the checks "
                    "did not run, so nothing is known to be right",
                    "  remove the exit (and any quit()): the checker calls your functions and "
                    "needs them to return")
    if kind == "interrupt":
        return Stop(f"✗ {name} raised KeyboardInterrupt{where}: the check stopped there",
                    "  nothing after this point was checked; run the check again")
    message = info["message"]
    return Stop(f"✗ {name} raised {info['type']}{': ' + message if message else ''}{where}",
                *(hint or ["  run the function by hand on small arrays to see the full error"]))


def _code(info):
    return "" if info["code"] in ("None", "") else info["code"]


# ---- a file, in a child process ------------------------------------------------------------

class Child:
    """The student's file, loaded in a child process that this object talks to."""

    def __init__(self, path):
        self.path = Path(path)
        self.proc = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=os.getcwd())
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.functions, self.explain = {}, _no_explanation

    def _read(self):
        try:
            while True:
                frame = child.read_frame(self.proc.stdout)
                self.replies.put(frame)
                if frame is None:
                    return
        except (OSError, ValueError):               # a garbled pipe: the child is gone
            self.replies.put(None)

    def _send(self, message, buffers=()):
        try:
            child.write_frame(self.proc.stdin, message, buffers)
        except (OSError, ValueError):
            pass                                   # the reply will say the process is gone

    def _reply(self, deadline, what, limit):
        try:
            frame = self.replies.get(timeout=min(max(0.0, deadline - time.monotonic()), 1e6))
        except queue.Empty:
            self.close()
            raise Stop(f"✗ {what} did not finish within {limit:g} s: an endless loop (a "
                       "while whose condition never changes? a loop that waits for input?)",
                       "  the checker stopped it. If your code is only slow, give it longer "
                       "with --timeout SECONDS") from None
        except KeyboardInterrupt:
            self.close()
            raise Interrupted() from None
        if frame is None:
            status = self.close()
            raise Stop(f"✗ the process running your code ended during {what} (exit status "
                       f"{status}): os._exit(), a crash in a C library, or running out of "
                       "memory", "  the checks did not run, so nothing is known to be right")
        return frame

    def load(self, limit):
        """Start the process, import the file in it; Stop if it cannot be imported."""
        ready, _ = self._reply(time.monotonic() + START_LIMIT, "starting Python", START_LIMIT)
        if not ready.get("ready"):
            raise Stop("✗ the checker's child process did not start")
        self._send({"op": "load", "path": str(self.path.resolve()), "sys_path": sys.path,
                    "module": f"_minirnn_exercise_{self.path.stem}", "contracts": contracts()})
        message, _ = self._reply(time.monotonic() + limit, f"importing {self.path.name}", limit)
        if "stop" in message:
            raise Stop(*message["stop"])
        if "raised" in message:
            info = message["raised"]
            error = verdict_for(self.path.name, info)
            if info["kind"] in ("error", "not_written"):
                error = Stop(f"✗ {self.path.name} raised {info['type']} while it was being "
                             f"imported: {info['message']}{info['where']}",
                             "  the file must import without running anything; `python FILE`"
                             " shows the full error")
            raise error
        self.functions = message["ok"]

    def call(self, name, args, deadline, limit):
        sent = []
        data = child.encode(tuple(args), _no_keep, sent)
        self._send({"op": "call", "name": name, "args": data["t"]}, sent)
        message, buffers = self._reply(deadline, name, limit)
        if "raised" in message:
            raise verdict_for(name, message["raised"],
                              self.explain(name, message["raised"]))
        return child.decode(message["ok"], iter(buffers), _handle)

    def reset(self):
        self._send({"op": "reset"})

    def close(self):
        """Stop the process (if it still runs); its exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=0.5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _no_keep(value):
    raise TypeError(f"the checker cannot send a {type(value).__name__}")


def _handle(data):
    if "f" in data:
        return child.Foreign(data["f"], data.get("type", "ndarray"), data["dtype"],
                             data["shape"])
    return child.Handle(data["h"], data.get("type", "object"))


# ---- a namespace, in this process ----------------------------------------------------------

class _TimeUp(BaseException):
    """Raised inside a student's function when its time is up (a BaseException, so that an
    ``except Exception`` in their code does not swallow it)."""


def alarm_available():
    """True where InProcess can enforce a time limit: SIGALRM, in the main thread."""
    return (hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread())


class InProcess:
    """Functions of a namespace (a notebook's globals()), called in this process."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.functions = child.describe(namespace, contracts())
        self.objects, self.counter = {}, itertools.count()
        self.explain = _no_explanation

    def _keep(self, value):
        key = next(self.counter)
        self.objects[key] = value
        return key

    def call(self, name, args, deadline, limit):
        fn = self.namespace[name]
        # through the same encoding as a child's answer: copies of the arrays (an in-place
        # edit cannot spoil the next call), and handles for everything else
        sent = []
        data = child.encode(tuple(args), self._keep, sent)
        args = child.decode(data, iter(sent), lambda d: self.objects[d["h"]])
        code_file = getattr(getattr(fn, "__code__", None), "co_filename", "")
        try:
            result = self._timed(fn, args, deadline)
        except _TimeUp:
            raise Stop(f"✗ {name} did not finish within {limit:g} s: an endless loop (a "
                       "while whose condition never changes?)",
                       "  the checker interrupted it. If your code is only slow, give it "
                       "longer: check_functions(..., timeout=SECONDS)") from None
        except BaseException as e:                 # noqa: B036 -- exit() is an answer too
            info = child.raised(e, code_file)
            raise verdict_for(name, info, self.explain(name, info)) from None
        sent = []
        data = child.encode(result, self._keep, sent)
        return child.decode(data, iter(sent), _handle)

    def _timed(self, fn, args, deadline):
        import numpy as np
        if not alarm_available():
            with np.errstate(all="ignore"):
                return fn(*args)

        def time_up(signum, frame):
            raise _TimeUp()

        previous = signal.signal(signal.SIGALRM, time_up)
        try:
            # and again every 0.5 s: a bare `except:` in their loop cannot swallow it for good
            signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-3), 0.5)
            with np.errstate(all="ignore"):
                return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def reset(self):
        self.objects.clear()

    def close(self):
        return 0


# ---- which cell, which functions -----------------------------------------------------------

def find_cell(functions, label):
    """The one cell whose functions ``functions`` (a runner's) names; Stop otherwise."""
    found = {c: [n for n in c.functions if n in functions] for c in CELLS.values()}
    cells = [c for c, names in found.items() if names]
    if not cells:
        names = ", ".join(c.functions[0] for c in CELLS.values())
        raise Stop(f"✗ {label} defines none of the exercise's functions ({names}, ...)",
                   "  write an exercise with: minirnn exercise lstm   (or srn, gru)")
    if len(cells) > 1:
        listed = "; ".join(f"{c.title}: {', '.join(found[c])}" for c in cells)
        raise Stop(f"✗ {label} defines functions of more than one cell ({listed})",
                   "  keep one cell per file, and check each file on its own")
    return cells[0]


def check_signature(cell, name, functions):
    """Stop unless ``name`` exists and takes the contract's positional arguments."""
    call = f"{name}({', '.join(cell.arguments(name))})"
    if name not in functions:
        raise Stop(f"✗ there is no {name}: the exercise needs {call}",
                   "  copy its stub from a fresh exercise (minirnn exercise "
                   f"{cell.name} --dir elsewhere)")
    if not functions[name]["binds"]:
        raise Stop(f"✗ {name}{functions[name]['signature']} cannot be called as {call}",
                   "  keep the exercise's arguments, in its order")


def _no_explanation(name, info):
    """Hint lines for an exception in ``name`` (the ladder sets a better one): none."""
    return ()
