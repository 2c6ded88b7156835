"""``python -m minirnn.exercises exercise lstm`` / ``python -m minirnn.exercises check FILE``."""
import sys

from .main import check_main, exercise_main

_COMMANDS = {"exercise": exercise_main, "check": check_main}

if __name__ == "__main__":
    if sys.argv[1:2] and sys.argv[1] in _COMMANDS:
        sys.exit(_COMMANDS[sys.argv[1]](sys.argv[2:]))
    print("usage: python -m minirnn.exercises {exercise,check} ...   (see docs/exercises.md)")
    sys.exit(2)
