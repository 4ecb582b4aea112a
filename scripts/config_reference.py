"""Print the Markdown reference of every config key (for the README's Configuration section)."""

import dataclasses

from flexotip import config


def main() -> None:
    """Print one table per section: key, default, unit, meaning and allowed values."""
    defaults = config.Config()
    for section in dataclasses.fields(defaults):
        print(f"\n**[{section.name}]**\n\n| key | default | unit | meaning |\n|---|---|---|---|")
        table = getattr(defaults, section.name)
        for field in dataclasses.fields(table):
            value, meta = getattr(table, field.name), field.metadata
            allowed = ""
            if meta["choices"] and field.name != "fields":
                allowed = " (" + " \\| ".join(f"`{c!r}`".replace("'", '"') for c in meta["choices"]) + ")"
            elif field.name == "fields":
                allowed = " (any of " + ", ".join(f"`{c}`" for c in meta["choices"]) + ")"
            shown = "—" if value is None else f"`{config._toml_value(value)}`"
            print(f"| `{field.name}` | {shown} | {meta['unit']} | {meta['doc']}{allowed} |")


if __name__ == "__main__":
    main()
