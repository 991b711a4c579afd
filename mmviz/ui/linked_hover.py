"""Linked hover between two plotly charts on one Streamlit page.

``link_hover(LEFT, RIGHT)`` mounts an invisible ``st.components.v2`` component whose JavaScript
runs in the app page itself (v2 components are not iframed), so it can reach both charts' DOM.
Hovering a point in one chart shows plotly's own hover label on the point with the same row id
in the other; un-hovering clears it. The row id is the first column of a point's ``customdata``
(or the scalar ``customdata``); trace and point order may differ between the charts.

Tricks, each for one reason:

- Charts are found as ``.st-key-<key> .js-plotly-plot`` and re-found every 400 ms: a rerun can
  replace a chart's div, and a ``WeakSet`` makes sure each div instance gets its listeners once.
- The hover is shown by dispatching a synthetic ``mousemove`` on the other chart's drag layer
  (``.nsewdrag``) at the point's client coordinates: the ``window.Plotly`` that Streamlit's
  bundle happens to leave behind is no API of Streamlit's, while the drag layer's own listener is
  plain DOM and runs plotly's full hover code (label, spikes, ``hoverdistance``) for us.
- Only hovers caused by a trusted (real user) event are forwarded: our synthetic events have
  ``isTrusted == false``, which stops the echoed hover from bouncing back (no ping-pong).
- Positions come from ``gd._fullData`` / ``gd._fullLayout`` rather than ``gd.data``: those hold
  the decoded arrays (plotly.py ships numpy arrays base64-encoded) and the live axis mappings.
- The component hides its own element container: even an empty element adds a layout gap.
"""

from __future__ import annotations

import streamlit as st

_JS = r"""
const rowOf = cd => {
  const v = (Array.isArray(cd) || ArrayBuffer.isView(cd)) ? cd[0] : cd;
  return (v === null || v === undefined || v === '') ? null : String(v);
};

// row id -> [fullData index, point index], rebuilt whenever plotly recomputes _fullData.
const indexCache = new WeakMap();
function rowIndex(gd) {
  const full = gd._fullData || [];
  let idx = indexCache.get(full);
  if (!idx) {
    idx = new Map();
    full.forEach((t, i) => {
      if (t.visible !== true || !t.customdata || !t.x || !t.y) return;
      for (let j = 0; j < t.customdata.length; j++) {
        const r = rowOf(t.customdata[j]);
        if (r !== null && !idx.has(r)) idx.set(r, [i, j]);
      }
    });
    indexCache.set(full, idx);
  }
  return idx;
}

const axisOf = (gd, id) => gd._fullLayout[id.charAt(0) + 'axis' + id.slice(1)];

function showRow(gd, row) {
  const hit = rowIndex(gd).get(row);
  if (!hit) return hide(gd);
  const t = gd._fullData[hit[0]];
  const xa = axisOf(gd, t.xaxis || 'x'), ya = axisOf(gd, t.yaxis || 'y');
  const drag = gd.querySelector('.nsewdrag[data-subplot="' + xa._id + ya._id + '"]')
    || gd.querySelector('.nsewdrag');
  if (!xa || !ya || !drag) return;
  const px = xa.c2p(xa.d2c(t.x[hit[1]])), py = ya.c2p(ya.d2c(t.y[hit[1]]));
  if (!(px >= 0 && px <= xa._length && py >= 0 && py <= ya._length)) return hide(gd);
  const box = drag.getBoundingClientRect();
  drag.dispatchEvent(new MouseEvent('mousemove', {
    bubbles: true, cancelable: true, view: window,
    clientX: box.left + px, clientY: box.top + py,
  }));
}

function hide(gd) {
  const drag = gd.querySelector('.nsewdrag');
  if (drag) drag.dispatchEvent(new MouseEvent('mouseout', {bubbles: true, view: window}));
}

export default function ({ data, parentElement }) {
  const keys = [data.left, data.right];
  // This element only carries the script: take its (empty) container out of the layout.
  const host = parentElement.host || parentElement;
  const box = host.closest && host.closest('[data-testid=stElementContainer]');
  if (box) box.style.display = 'none';

  const wired = new WeakSet();
  const offs = [];
  const find = k => document.querySelector('.st-key-' + CSS.escape(k) + ' .js-plotly-plot');
  const other = k => find(keys[1 - keys.indexOf(k)]);
  const trusted = ev => ev && ev.event && ev.event.isTrusted;

  function wire() {
    for (const k of keys) {
      const gd = find(k);
      if (!gd || typeof gd.on !== 'function' || wired.has(gd)) continue;
      wired.add(gd);
      const onHover = ev => {
        if (!trusted(ev)) return;
        const p = (ev.points || []).find(q => rowOf(q.customdata) !== null);
        const peer = other(k);
        if (peer && peer._fullLayout) p ? showRow(peer, rowOf(p.customdata)) : hide(peer);
      };
      const onUnhover = ev => {
        const peer = other(k);
        if (trusted(ev) && peer) hide(peer);
      };
      gd.on('plotly_hover', onHover);
      gd.on('plotly_unhover', onUnhover);
      offs.push(() => {
        if (gd.removeListener) {
          gd.removeListener('plotly_hover', onHover);
          gd.removeListener('plotly_unhover', onUnhover);
        }
      });
    }
  }

  // One live linker per mount key: a re-invoked entry point replaces the previous one.
  const registry = (window.__mmvizLinkedHover = window.__mmvizLinkedHover || {});
  const id = keys.join('\u0000');
  if (registry[id]) registry[id]();
  wire();
  const timer = setInterval(wire, 400);
  const stop = () => {
    clearInterval(timer);
    offs.splice(0).forEach(f => f());
    if (registry[id] === stop) delete registry[id];
  };
  registry[id] = stop;
  return stop;
}
"""

_linker = st.components.v2.component("mmviz.linked_hover", js=_JS)


def link_hover(left_key: str, right_key: str, *, key: str = "linked_hover") -> None:
    """Mount (once per page run) the script that links hover between the plotly charts whose
    Streamlit keys are ``left_key`` and ``right_key`` (both directions)."""
    _linker(key=key, data={"left": left_key, "right": right_key})
