"""The live app: the value chain run a quarter at a time in a web page (``margins viz``).

Thin on purpose: it builds the economy ``margins run`` runs (:mod:`viz.live`), reads its state
into rows (:mod:`viz.views`) and draws them (:mod:`viz.charts`, :mod:`viz.components`,
:mod:`viz.app`). Settings are scenario data (:mod:`viz.setup`); lessons are data
(``viz/lessons.toml``).
"""
