"""`python -m ghippo_reference`: run one reference deployment in the foreground until Ctrl-C."""

import argparse
import shlex
import threading
import typing
from functools import partial

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start

_TYPES = typing.get_type_hints(Behaviour)


def _typed(name: str, text: str):
    """`text` as a value for the field `name`, of the field's type ("none" for None), or one of its choices."""
    field_type = _TYPES.get(name)
    if typing.get_origin(field_type) is typing.Literal:
        allowed = typing.get_args(field_type)
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"{name} takes one of {', '.join(allowed)}, not {text!r}")
        return text
    if text.lower() == "none":
        return None
    if field_type is bool:
        if text.lower() not in ("true", "false"):
            raise argparse.ArgumentTypeError(f"{name} takes true or false, not {text!r}")
        return text.lower() == "true"
    if int in (field_type, *typing.get_args(field_type)):  # int, or int | None
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} takes an integer, not {text!r}") from None
    return text  # a text field, or an unknown name that Behaviour.from_overrides will name


def _override(text: str) -> tuple[str, object]:
    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return name, _typed(name, value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ghippo_reference", description=__doc__)
    # SUPPRESS: an option not given leaves the Behaviour default alone.
    parser.add_argument("--flow", choices=typing.get_args(_TYPES["flow"]), default=argparse.SUPPRESS)
    parser.add_argument("--key-limit", type=partial(_typed, "key_limit"), default=argparse.SUPPRESS, metavar="N|none")
    parser.add_argument("--port", type=int, default=0, help="default: chosen by the kernel")
    parser.add_argument(
        "--set",
        type=_override,
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any Behaviour field, repeatable",
    )
    arguments = vars(parser.parse_args(argv))
    overrides = dict(arguments.pop("set"))
    port = arguments.pop("port")
    try:
        behaviour = Behaviour.from_overrides({**overrides, **arguments})
    except ValueError as error:
        parser.error(str(error))
    with start(behaviour, port=port) as running:
        credentials = " ".join(
            f"--{name.replace('_', '-')} {shlex.quote(value)}" for name, value in running.credentials.items()
        )
        print(f"reference ({behaviour.flow} flow) listening on {running.base_url}")
        print(f"credentials: {running.credentials}")
        # The clock key lets the suite judge AUTH-EXPIRED-OWN in one run, moving this deployment's clock.
        print(
            f"run the suite against it:\n  pytest --base-url {running.base_url} {credentials} "
            f"--reference-clock {shlex.quote(running.clock_key)}"
        )
        print("Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
