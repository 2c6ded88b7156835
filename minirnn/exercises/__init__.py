"""Learn by doing: write a cell's forward and BPTT backward yourself, and have them checked.

    minirnn exercise lstm          writes lstm_exercise.py: equations and four functions to fill in
    minirnn check lstm_exercise.py checks them, rung by rung, and says what is wrong

``exercise_main(argv)`` and ``check_main(argv)`` are those two commands (they return the exit
status); ``check_functions(namespace)`` checks the functions a notebook or module defines.
See docs/exercises.md.

    cells.py      what each cell's functions are called and take
    templates.py  the exercise text, for files and notebooks
    student.py    where the student's functions run: a child process with a time limit
                  (a file), or this process (a notebook)
    child.py      the child process, and the plain encoding of what the functions return
    checker.py    the ladder of checks
    diagnosis.py  from a wrong answer to a hint
    reference.py  the textbook tier, the answers
    main.py       the two commands
"""
from .checker import check_file, check_functions
from .main import add_check_arguments, add_exercise_arguments, check_main, exercise_main

__all__ = ["exercise_main", "check_main", "check_functions", "check_file",
           "add_exercise_arguments", "add_check_arguments"]
