"""Running the ``minirnn`` command in-process, for the CLI tests."""
from minirnn import cli


def run_main(capsys, *argv):
    """(exit status, stdout, stderr) of ``minirnn argv...`` run in-process."""
    try:
        status = cli.main(list(argv))
    except SystemExit as e:             # argparse exits for --help and usage errors
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err
