"""Text rendering of a recorded backpropagation: the graph, and the walkthrough.

The graph is drawn left to right with box-drawing characters, inputs on the
left and f on the right, as the assignment draws its computational graph.
Each wire carries the value flowing forward and, on the line below it marked
∂, the gradient ∂f/∂(that value) flowing back along that wire. Values are
green and gradients red when colour is available; the ∂ mark keeps them apart
without colour. The layout depends only on the graph, never on the step shown,
so stepping through a trace changes labels but never moves anything.

Pure text (rich, no Textual), so the CLI, the tests and the dashboard share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from mnist_dvc.backprop.notation import fmt, symbol
from mnist_dvc.backprop.ops import OPS
from mnist_dvc.backprop.record import Node, Step, Trace

VALUE_STYLE = "green"
GRAD_STYLE = "red"
ACTIVE_STYLE = "bold reverse"
PITCH = 3  # rows per leaf: wire, gradient, gap


@dataclass
class _Place:
    """One appearance of a node in the drawn tree; a node used twice is drawn once, then referenced."""

    node: Node
    edge: tuple[str, int] | None  # (consumer, operand index) this appearance feeds; None for f
    children: list[_Place] = field(default_factory=list)
    reference: bool = False
    level: int = 0
    row: int = 0


def _box(place: _Place) -> str:
    node = place.node
    if place.reference:
        return f"[{node.name} ↑]"
    if node.op in ("input", "const"):
        return node.name
    return f"[{node.name} {symbol(OPS[node.op], node.exponent)}]"


def _unfold(trace: Trace) -> _Place:
    """The graph as a tree from f: inputs are repeated per use, a shared operation is drawn once."""
    drawn: set[str] = set()

    def visit(name: str, edge: tuple[str, int] | None) -> _Place:
        node = trace.nodes[name]
        if not node.operands:
            return _Place(node, edge)
        if name in drawn:
            return _Place(node, edge, reference=True)
        drawn.add(name)
        place = _Place(node, edge, [visit(op, (name, i)) for i, op in enumerate(node.operands)])
        place.level = 1 + max(child.level for child in place.children)
        return place

    return visit(trace.output, None)


def _layout(root: _Place) -> list[_Place]:
    """Rows: leaves one PITCH apart in drawing order; an operation midway between its operands."""
    places: list[_Place] = []
    next_row = 0

    def visit(place: _Place) -> None:
        nonlocal next_row
        for child in place.children:
            visit(child)
        if place.children:
            first, last = place.children[0].row, place.children[-1].row
            place.row = (first + last + 1) // 2
        else:
            place.row = next_row
            next_row += PITCH
        places.append(place)

    visit(root)
    return places


def _edge_grads(trace: Trace) -> dict[tuple[str, int] | None, float]:
    return {(s.edge[0], s.operand): s.value for s in trace.steps if s.kind == "backward"}


class _Canvas:
    def __init__(self, height: int) -> None:
        self.height = height
        self.rows: dict[int, dict[int, tuple[str, str | None]]] = {}

    def put(self, row: int, col: int, text: str, style: str | None = None) -> None:
        line = self.rows.setdefault(row, {})
        for i, char in enumerate(text):
            line[col + i] = (char, style)

    def text(self) -> Text:
        """The canvas as rich Text: runs of one style merged, trailing blanks dropped."""
        out = Text()
        for row in range(self.height):
            line = self.rows.get(row, {})
            cells = [line.get(col, (" ", None)) for col in range(max(line, default=-1) + 1)]
            while cells and cells[-1] == (" ", None):
                cells.pop()
            run, run_style = "", None
            for char, style in cells:
                if style != run_style and run:
                    out.append(run, run_style)
                    run = ""
                run += char
                run_style = style
            out.append(run, run_style)
            if row < self.height - 1:
                out.append("\n")
        return out


def render_graph(trace: Trace, step: int | None = None) -> Text:
    """The graph as it stands after `steps[step]` (None: everything; -1: before the first step).

    Values appear once their node is computed, gradients once the backward
    pass has crossed the wire; the node or wire of the current step is
    highlighted.
    """
    count = len(trace.steps)
    if step is not None and not -1 <= step < count:
        raise ValueError(f"step {step} is out of range: the trace has {count} steps (0..{count - 1})")
    done = trace.steps if step is None else trace.steps[: step + 1]
    active = None if step is None or step < 0 else trace.steps[step]
    active_node = active_edge = None
    if active is not None and active.kind == "forward":
        active_node = active.node
    elif active is not None:
        active_edge = (active.edge[0], active.operand)
    computed = {s.node for s in done if s.kind == "forward"}
    reached = {(s.edge[0], s.operand): s.value for s in done if s.kind == "backward"}
    if step is None or any(s.kind == "backward" for s in done):
        reached[None] = 1.0  # ∂f/∂f, shown once the backward pass has begun

    places = _layout(_unfold(trace))
    levels = max(p.level for p in places) + 1
    # Sized from the finished trace, so the layout is the same at every step.
    final = _edge_grads(trace)
    final[None] = 1.0
    box_width = [0] * levels
    label_width = [0] * levels
    for place in places:
        grad_label = f"∂ {fmt(final.get(place.edge, 0.0))}"
        box_width[place.level] = max(box_width[place.level], len(_box(place)))
        label_width[place.level] = max(label_width[place.level], len(fmt(place.node.value)), len(grad_label))
    # Each level: box, " ── ", label, " ─", connector, "─", next box.
    start = [0] * levels
    for level in range(1, levels):
        start[level] = start[level - 1] + box_width[level - 1] + label_width[level - 1] + 8
    level_of = {p.node.name: p.level for p in places if p.children}

    canvas = _Canvas(height=max(p.row for p in places) + 2)  # the last gradient row, even while empty
    for place in places:
        node, level = place.node, place.level
        box = _box(place)
        box_style = ACTIVE_STYLE if node.name == active_node and not place.reference else None
        canvas.put(place.row, start[level], box, box_style)
        label_at = start[level] + box_width[level] + 4
        wire_from = start[level] + len(box) + 1
        wire_to = label_at + label_width[level] if place.edge is None else start[level_of[place.edge[0]]] - 2
        canvas.put(place.row, wire_from, "─" * (wire_to - wire_from))
        if node.op in ("input", "const") or node.name in computed:
            value = fmt(node.value)
            canvas.put(place.row, label_at - 1, f" {value} ")
            canvas.put(place.row, label_at, value, box_style or VALUE_STYLE)
        if place.edge in reached:
            highlighted = active_edge is not None and place.edge == active_edge
            grad_style = f"{ACTIVE_STYLE} {GRAD_STYLE}" if highlighted else GRAD_STYLE
            canvas.put(place.row + 1, label_at, f"∂ {fmt(reached[place.edge])}", grad_style)
        if place.children:
            _connector(canvas, start[level] - 2, place)
    return canvas.text()


def _connector(canvas: _Canvas, col: int, place: _Place) -> None:
    """The junction where the operands' wires meet and enter the operation's box."""
    rows = [child.row for child in place.children]
    top, bottom = min(rows), max(rows)
    if top == bottom:
        canvas.put(place.row, col, "──")
        return
    for row in range(top, bottom + 1):
        if row == top:
            char = "┐"
        elif row == bottom:
            char = "┘"
        elif row == place.row:
            char = "├"
        else:
            char = "│"
        canvas.put(row, col, char)
    canvas.put(place.row, col + 1, "─")


def _styled_line(step: Step) -> Text:
    """A step's line with its result coloured: green for a value, red for a gradient."""
    main, _, note = step.line.partition("   (")
    result = fmt(step.value)
    at = main.rindex(result)
    text = Text(main[:at])
    text.append(result, VALUE_STYLE if step.kind == "forward" else GRAD_STYLE)
    text.append(main[at + len(result):] + ("   (" + note if note else ""))
    return text


def _wrapped(items: list[str], width: int = 80, indent: str = "  ") -> str:
    lines, line = [], indent
    for item in items:
        piece = item if line == indent else f", {item}"
        if len(line) + len(piece) > width and line != indent:
            lines.append(line + ",")
            line, piece = indent, item
        line += piece
    lines.append(line)
    return "\n".join(lines)


def render_walkthrough(trace: Trace) -> Text:
    """The whole calculation for a reader: forward steps, the graph, backward steps, the graph again."""
    forward = [i for i, s in enumerate(trace.steps) if s.kind == "forward"]
    backward = [i for i, s in enumerate(trace.steps) if s.kind == "backward"]
    out = Text()
    out.append(f"Backpropagation through f = {trace.expression.strip()}\n", "bold")
    out.append("Inputs:\n" + _wrapped([f"{k} = {fmt(v)}" for k, v in trace.inputs.items()]) + "\n")

    out.append("\nForward pass: every node from its operands, in topological order\n", "bold")
    for i in forward:
        out.append(f"{i + 1:>4}. ")
        out.append_text(_styled_line(trace.steps[i]))
        out.append("\n")
    out.append("\nThe graph after the forward pass (values on the wires):\n\n")
    out.append_text(render_graph(trace, forward[-1] if forward else -1))
    out.append("\n")

    out.append(f"\nBackward pass: from ∂{trace.output}/∂{trace.output} = 1, in reverse topological order,\n"
               "one step per wire; gradients add up where a node feeds several others\n", "bold")
    for i in backward:
        out.append(f"{i + 1:>4}. ")
        out.append_text(_styled_line(trace.steps[i]))
        out.append("\n")
    out.append("\nThe graph after the backward pass (∂: gradient of f along each wire):\n\n")
    out.append_text(render_graph(trace))
    out.append("\n")

    out.append(f"\nResult: {trace.output} = ", "bold")
    out.append(fmt(trace.f), VALUE_STYLE)
    out.append("\n")
    for name, grad in trace.grads.items():
        out.append(f"  ∂{trace.output}/∂{name} = ")
        out.append(fmt(grad), GRAD_STYLE)
        out.append("\n")
    out.append("\nValues green, gradients red (marked ∂); [n ↑]: node n, drawn where first used.\n")
    return out
