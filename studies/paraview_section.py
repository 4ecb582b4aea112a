"""Open a flexotip run's fields in ParaView, cut through the tip axis (the paper's Fig. 3 section).

    pvpython paraview_section.py RUN_DIR [--png FILE] [--no-render]

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
own, in a diverging colour map centred on zero (P_z, E_z) or on one (c/c0), flat-shaded;
``--no-render`` only slices and prints each field's range (no X display needed);
``--png`` saves the layout (the whole section: zoom on the tip in the GUI; headless, run it
under ``xvfb-run`` with Debian's ParaView, which is built for X). Coordinates are in metres.
"""

import pathlib
import sys
import tomllib

from paraview import simple

SLICE_OFFSET = 1e-13
"""m: the plane y = y0 is a face of a half or quarter box (a symmetry plane); slicing a hair
inside it cuts cells instead of grazing the boundary."""

FIELDS = (  # (vtkhdf file, xdmf/vtx group, array, component, title, centre of the colour map)
    ("polarization", "polarization", "polarization", "Z", "P_z (C/m²)", 0.0),
    ("depolarization_field", "electric", "depolarization_field", "Z", "depolarisation E_z (V/m)", 0.0),
    ("vacancy_density_relative", "vacancies", "vacancy_density_relative", None, "c/c0 (0 off the film)", 1.0),
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
    layout, shown = (simple.CreateLayout("flexotip section") if render else None), []
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
            show(section, layout, array, component, title, centre, values, (x0, y0))
        shown.append((file_stem, section))
        print(f"{file_stem}: sliced at y = {y0:g} m, {array} range {values[0]:.4g} … {values[1]:.4g}",
              flush=True)
    if png and shown and render:
        simple.SaveScreenshot(png, layout, ImageResolution=[600 * len(shown), 500])
        print(f"saved {png}", flush=True)
    return 0 if shown else 1


def show(section, layout, array: str, component, title: str, centre: float, values, tip) -> None:
    """The section in a view of its own, coloured by ``array`` around ``centre``."""
    x0, y0 = tip
    view = simple.CreateView("RenderView")
    simple.AssignViewToLayout(view=view, layout=layout)
    display = simple.Show(section, view)
    display.Ambient, display.Diffuse = 1.0, 0.0  # flat colours: a section has no shading to show
    simple.ColorBy(display, ("POINTS", array, component) if component else ("POINTS", array))
    lookup = simple.GetColorTransferFunction(array)
    lookup.ApplyPreset("Cool to Warm", True)
    half = max(abs(values[0] - centre), abs(values[1] - centre)) or 1.0
    lookup.RescaleTransferFunction(centre - half, centre + half)
    display.SetScalarBarVisibility(view, True)
    simple.GetScalarBar(lookup, view).Title = title
    # looking along +y at the whole section (zoom on the tip corner in the GUI)
    view.CameraPosition, view.CameraFocalPoint = [x0, y0 - 1.0, 0.0], [x0, y0, 0.0]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    simple.ResetCamera(view)
    view.OrientationAxesVisibility = 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
