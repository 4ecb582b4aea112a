"""Open a flexotip run's fields in ParaView, cut through the tip axis (the paper's Fig. 3 section).

    pvpython paraview_section.py RUN_DIR [--png FILE] [--window METRES] [--no-render]

(a study copies this file into its folder; it is also studies/paraview_section.py)

RUN_DIR is a ``flexotip run`` output folder or a study member (``DIR/members/<name>``).
Runs in ParaView's own Python (pvpython, or the GUI's *View → Python Shell → Run Script*
with ``sys.argv`` set); it imports nothing of flexotip. It opens the polarisation, the
depolarisation field and the relative vacancy density, whichever of the run's field
formats is there (``[output] format``):

* ``vtkhdf``: ``<field>.vtkhdf`` with the VTKHDF reader (every ParaView ≥ 5.11; 5.11
  needs the reader named, as here, because it knows the extension ``.hdf`` only);
* ``xdmf``: ``<group>.xdmf`` with the XDMF3 reader (the function at t = 0);
* ``vtx``: ``<group>.bp`` with the ADIOS2 VTX reader (ParaView builds with ADIOS2 only;
  Debian's 5.11 has none).

Each field is sliced by the plane y = y0 through the tip axis and shown in a view of its
own, in a diverging colour map centred on zero (P_z, E_z) (c/c0 in a sequential one), flat-shaded;
``--no-render`` only slices and prints each field's range (no X display needed);
The views show the section within ``--window`` of the tip axis (m; default five contact
radii from the run's summary.json, else 50 nm) and as deep (a box clip: the
camera then frames the tip, whatever the box size); ``--png`` saves the layout (headless,
run it under ``xvfb-run`` with Debian's ParaView, which is built for X). Coordinates are in
metres.
"""

import json
import os
import pathlib
import sys
import tomllib

from paraview import simple

SLICE_OFFSET = 1e-13
"""m: the plane y = y0 is a face of a half or quarter box (a symmetry plane); slicing a hair
inside it cuts cells instead of grazing the boundary."""

FIELDS = (  # (vtkhdf file, xdmf/vtx group, array, component, title, centre of a diverging colour map or None)
    ("polarization", "polarization", "polarization", "Z", "P_z (C/m²)", 0.0),
    ("depolarization_field", "electric", "depolarization_field", "Z", "depolarisation E_z (V/m)", 0.0),
    ("vacancy_density_relative", "vacancies", "vacancy_density_relative", None, "c/c0 (0 off the film)",
     None),
)


def open_field(run: pathlib.Path, file_stem: str, group: str):
    """A reader of the field in whichever format the run wrote, or None."""
    if (run / f"{file_stem}.vtkhdf").exists():
        return simple.VTKHDFReader(FileName=[str(run / f"{file_stem}.vtkhdf")])
    if (run / f"{group}.xdmf").exists():
        return simple.Xdmf3ReaderT(FileName=[str(run / f"{group}.xdmf")])
    if (run / f"{group}.bp").exists():
        return simple.ADIOS2VTXReader(FileName=str(run / f"{group}.bp"))
    return None


def main(argv: list[str]) -> int:
    """Open, slice and show the fields of ``argv[1]``; 0 if any was shown."""
    if len(argv) < 2:
        print(__doc__)
        return 2
    run = pathlib.Path(argv[1])
    png = argv[argv.index("--png") + 1] if "--png" in argv else None
    render = "--no-render" not in argv
    config = tomllib.loads((run / "config.toml").read_text())
    x0, y0 = config.get("tip", {}).get("position", [0.0, 0.0])
    window = float(argv[argv.index("--window") + 1]) if "--window" in argv else default_window(run)
    views, shown = [], []
    for file_stem, group, array, component, title, centre in FIELDS:
        reader = open_field(run, file_stem, group)
        if reader is None:
            print(f"{run}: no {file_stem} field file (see [output] fields and format)", flush=True)
            continue
        reader.UpdatePipeline(0.0)
        section = simple.Slice(Input=reader)
        section.SliceType = "Plane"
        section.SliceType.Origin = [x0, y0 + SLICE_OFFSET, 0.0]
        section.SliceType.Normal = [0.0, 1.0, 0.0]
        section.UpdatePipeline(0.0)
        data = section.PointData[array]
        if data is None:
            print(f"{file_stem}: the section through y = {y0:g} m is empty", flush=True)
            continue
        values = data.GetRange(2 if component == "Z" else -1)
        if render:
            views.append(show(around_tip(section, (x0, y0), window), array, component, title, centre, values))
        shown.append((file_stem, section))
        print(f"{file_stem}: sliced at y = {y0:g} m, {array} range {values[0]:.4g} … {values[1]:.4g}",
              flush=True)
    if views:
        layout = side_by_side(views)
        if png:
            simple.SaveScreenshot(png, layout, ImageResolution=[600 * len(views), 520])
        print(f"saved {png}", flush=True)
    return 0 if shown else 1


def default_window(run: pathlib.Path) -> float:
    """Half-width (m) of the shown part of the section: five contact radii, else 50 nm."""
    try:
        radius = json.loads((run / "summary.json").read_text())["contact_radius_m"]
    except (OSError, KeyError, ValueError):
        radius = None
    return 5.0 * radius if radius else 50e-9


def around_tip(section, tip, half_width: float):
    """The part of the section within ``half_width`` of the tip axis, and as deep."""
    x0, y0 = tip
    clip = simple.Clip(Input=section)
    clip.ClipType = "Box"
    clip.ClipType.Position = [x0 - half_width, y0 - half_width, -half_width]
    clip.ClipType.Length = [2.0 * half_width, 2.0 * half_width, 2.0 * half_width]
    clip.Exact = 1  # cut the cells at the box, not keep whole cells that cross it
    clip.Invert = 1  # keep the inside
    return clip


def side_by_side(views):
    """A layout with the views in equal columns, left to right."""
    layout, cell = simple.CreateLayout("flexotip section"), 0
    for number, view in enumerate(views):
        if number < len(views) - 1:
            cell = layout.SplitHorizontal(cell, 1.0 / (len(views) - number))  # left child
            layout.AssignView(cell, view)
            cell += 1  # its right sibling takes the rest
        else:
            layout.AssignView(cell, view)
    return layout


def show(section, array: str, component, title: str, centre: float, values):
    """The section in a view of its own, coloured by ``array`` around ``centre``."""
    view = simple.CreateView("RenderView")
    view.UseColorPaletteForBackground = 0
    view.Background = [1.0, 1.0, 1.0]
    display = simple.Show(section, view)
    display.Ambient, display.Diffuse = 1.0, 0.0  # flat colours: a section has no shading to show
    simple.ColorBy(display, ("POINTS", array, component) if component else ("POINTS", array))
    lookup = simple.GetColorTransferFunction(array)
    if centre is None:  # a density: sequential, from its least to its largest value
        lookup.ApplyPreset("Viridis (matplotlib)", True)
        lookup.RescaleTransferFunction(values[0], values[1])
    else:  # a signed field: diverging, centred
        lookup.ApplyPreset("Cool to Warm", True)
        half = max(abs(values[0] - centre), abs(values[1] - centre)) or 1.0
        lookup.RescaleTransferFunction(centre - half, centre + half)
    display.SetScalarBarVisibility(view, True)
    bar = simple.GetScalarBar(lookup, view)
    bar.Title, bar.ComponentTitle = title, ""
    bar.Orientation, bar.WindowLocation = "Vertical", "Upper Right Corner"
    bar.TitleFontSize, bar.LabelFontSize = 14, 12
    bar.TitleColor, bar.LabelColor = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    # looking along +y at the clipped section, which the reset camera then fills
    view.CameraPosition, view.CameraFocalPoint, view.CameraViewUp = [0, -1, 0], [0, 0, 0], [0, 0, 1]
    view.CameraParallelProjection = 1
    simple.ResetCamera(view)
    # make room for the colour bar at the right: the section a little smaller, to the left
    bounds = section.GetDataInformation().GetBounds()
    shift = 0.2 * (bounds[1] - bounds[0])
    view.CameraFocalPoint = [view.CameraFocalPoint[0] + shift, *view.CameraFocalPoint[1:]]
    view.CameraPosition = [view.CameraPosition[0] + shift, *view.CameraPosition[1:]]
    view.CameraParallelScale = 1.1 * view.CameraParallelScale
    view.OrientationAxesVisibility = 0
    return view


if __name__ == "__main__":
    status = main(sys.argv)
    sys.stdout.flush()
    # Debian's ParaView 5.11 under Xvfb fails in the teardown of its render windows
    # (GLXBadContext, exit status 1) after the image is saved: leave without it.
    os._exit(status)
