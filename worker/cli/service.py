"""`fairwarning service`: install the systemd unit, make an encryption key for tokens."""

from __future__ import annotations

from pathlib import Path

import click

from worker.cli.common import fail, load
from worker.config.folder import read_folder
from worker.errors import FairWarningError
from worker.private_files import KEY_CREDENTIAL, KEY_VARIABLE, new_key
from worker.service.systemd import Unit, unit_for
from worker.service.systemd import install as install_unit
from worker.service.template_units import template_for


@click.group("service")
def service_group() -> None:
    """Run Fair Warning as a systemd service."""


@service_group.command("install")
@click.option("--user", "user", is_flag=True, help="A user unit (no root needed).")
@click.option("--print", "only_print", is_flag=True, help="Show the unit; write nothing.")
@click.option(
    "--key-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help=f"File holding the token encryption key, passed as the {KEY_CREDENTIAL} credential.",
)
@click.option("--web", is_flag=True, help="The console's unit (`fairwarning web`) instead.")
@click.pass_context
def install(
    ctx: click.Context, user: bool, only_print: bool, key_file: Path | None, web: bool
) -> None:
    """Write a hardened unit that runs `fairwarning run` with this configuration.

    With --web, a second unit for the console; set its password first with
    `fairwarning web set-password`. With --practices DIR, template units: `fairwarning@.service`
    serves the whole folder, `fairwarning-web@.service` one practice's console.
    """
    if ctx.obj.get("practices") is not None:
        unit = _template(ctx, user=user, key_file=key_file, web=web)
    else:
        config = load(ctx)
        unit = unit_for(config, ctx.obj["config_path"], user=user, key_file=key_file, web=web)
    if only_print:
        click.echo(unit.text)
        return
    try:
        install_unit(unit)
    except OSError as exc:
        fail(f"cannot write {unit.path}: {exc.strerror or exc} (use --user, or run as root)")
    click.echo(f"wrote {unit.path}; now run:")
    for command in unit.commands:
        click.echo(f"  {command}")
    if unit.note:
        click.echo(unit.note)


def _template(ctx: click.Context, *, user: bool, key_file: Path | None, web: bool) -> Unit:
    if ctx.obj.get("practice") is not None:
        raise click.UsageError(
            "service install with --practices writes template units for the whole folder "
            "(the console's instance names the practice): leave out --practice"
        )
    try:
        found = read_folder(ctx.obj["practices"])
    except FairWarningError as exc:
        fail(exc)
    for practice in found:
        if practice.config is None:
            click.echo(
                f"warning: practice {practice.name} skipped, its folders are not in the unit "
                f"(install again once it loads): {practice.problem}",
                err=True,
            )
    return template_for(ctx.obj["practices"], found, user=user, key_file=key_file, web=web)


@service_group.command("new-key")
def make_key() -> None:
    """Print a new key for encrypting tokens at rest."""
    click.echo(new_key())
    click.echo(
        f"Keep it in a root-only file (chmod 600) and pass it with --key-file, "
        f"or export {KEY_VARIABLE}. Losing it means authorising the accounts again.",
        err=True,
    )
