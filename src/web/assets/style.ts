/**
 * The dashboard's stylesheet, served as /assets/app.css. Mobile first: one
 * column and sideways-scrolling tables on a phone, a two-column grid from
 * 900px. Light and dark follow the system setting. No inline styles exist
 * anywhere (CSP forbids them), so every look is a class here.
 */
export const STYLE = String.raw`
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1d2330; --muted: #667085; --line: #e3e6eb;
  --accent: #2f5bd3; --accent-text: #fff; --danger: #c0362c; --code: #f0f2f5;
  --waiting: #2f5bd3; --running: #14804a; --stalled: #b54708; --scheduled: #6941c6;
  --depends: #475467; --failed: #c0362c; --complete: #067647; --paused: #b54708; --recur: #0e7090; --tracked: #9e1f63;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --panel: #1a1f27; --text: #e6e8ec; --muted: #98a2b3; --line: #2b323d;
    --accent: #6d8ef0; --accent-text: #0b1020; --danger: #f0766b; --code: #222833;
    --waiting: #84a3f5; --running: #47cd89; --stalled: #fdb022; --scheduled: #b692f6;
    --depends: #98a2b3; --failed: #f97066; --complete: #47cd89; --paused: #fdb022; --recur: #67e3f9; --tracked: #f670c7;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover, a:focus-visible { text-decoration: underline; }
code, pre, .jid { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
code { overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 0.2rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 0 0 0.75rem; }
.muted { color: var(--muted); font-weight: normal; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.top { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.6rem 1rem; background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.15rem; color: var(--text); letter-spacing: 0.02em; }
.nav { display: flex; flex-wrap: wrap; gap: 0.15rem 0.25rem; flex: 1 1 auto; }
.nav a { padding: 0.3rem 0.55rem; border-radius: 6px; color: var(--text); }
.nav a[aria-current="page"] { background: var(--code); font-weight: 600; }
.search { display: flex; gap: 0.35rem; flex: 1 1 14rem; max-width: 24rem; }
.search input { flex: 1; min-width: 0; }

main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
.foot { padding: 1rem; text-align: center; color: var(--muted); font-size: 0.85rem; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
@media (min-width: 900px) { .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.overview > #queues { grid-column: 1 / -1; }
@media (min-width: 1200px) { .grid.overview { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin-bottom: 1rem; min-width: 0; }
.grid > .card { margin-bottom: 0; }
#main > .grid { margin-bottom: 1rem; }

.flash { max-width: 1400px; margin: 1rem auto 0; padding: 0.6rem 1rem; border-radius: 8px; border: 1px solid; }
.flash-ok { border-color: var(--complete); color: var(--complete); }
.flash-error { border-color: var(--danger); color: var(--danger); }
.flash-warning { border-color: var(--stalled); color: var(--stalled); }

.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
thead th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td .excerpt { color: var(--muted); font-size: 0.85rem; max-width: 32rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.empty { color: var(--muted); margin: 0.25rem 0; }
@media (max-width: 600px) {
  main { padding: 0.75rem 0.5rem; }
  .card { padding: 0.75rem; }
  th, td { padding: 0.35rem 0.3rem; }
  thead th { font-size: 0.7rem; letter-spacing: 0.02em; }
}

.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.78rem; font-weight: 600; border: 1px solid currentColor; vertical-align: middle; white-space: nowrap; }
.badge-waiting { color: var(--waiting); } .badge-running { color: var(--running); } .badge-stalled { color: var(--stalled); }
.badge-scheduled { color: var(--scheduled); } .badge-depends { color: var(--depends); } .badge-failed { color: var(--failed); }
.badge-complete { color: var(--complete); } .badge-paused { color: var(--paused); } .badge-recur { color: var(--recur); } .badge-tracked { color: var(--tracked); }
.tags { display: inline-flex; flex-wrap: wrap; gap: 0.25rem; }
.tag { background: var(--code); border-radius: 4px; padding: 0 0.35rem; font-size: 0.85rem; }
.tag-list, .links { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.35rem 0.6rem; }
.tag-list li { display: inline-flex; align-items: center; gap: 0.15rem; }
.tag-list .btn { padding: 0 0.35rem; border: none; font-size: 0.95rem; }
.tag-cloud { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 0.4rem; }

.btn { font: inherit; font-size: 0.9rem; padding: 0.35rem 0.8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); cursor: pointer; display: inline-block; line-height: 1.3; }
.btn:hover { filter: brightness(1.08); text-decoration: none; }
.btn-danger { background: var(--danger); border-color: var(--danger); }
.btn-plain { background: transparent; color: var(--accent); }
input, select { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--text); max-width: 100%; }
form.inline { display: inline; margin: 0; }
form.action { display: flex; flex-wrap: wrap; align-items: end; gap: 0.5rem; margin: 0 0 0.75rem; }
form.action label { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.85rem; color: var(--muted); }
.toolbar, .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-bottom: 1rem; }
.forms { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 1rem; }
@media (min-width: 700px) { .forms { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
.config td form input[name="value"] { width: 14rem; }

.fields { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.35rem 1rem; margin: 0; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--code); padding: 0.75rem; border-radius: 8px; overflow: auto; max-height: 32rem; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.jid-line { margin: -0.5rem 0 1rem; color: var(--muted); }
.job-title .klass { font-size: 1.1rem; }

.timeline { list-style: none; margin: 0; padding: 0 0 0 1rem; border-left: 2px solid var(--line); }
.timeline li { position: relative; padding: 0 0 0.75rem 0.5rem; display: flex; flex-direction: column; }
.timeline li::before { content: ""; position: absolute; left: -1.42rem; top: 0.35rem; width: 0.7rem; height: 0.7rem; border-radius: 50%; background: var(--depends); border: 2px solid var(--panel); }
.timeline .event-put::before { background: var(--waiting); }
.timeline .event-popped::before { background: var(--running); }
.timeline .event-done::before { background: var(--complete); }
.timeline .event-failed::before { background: var(--failed); }
.timeline .event-timed-out::before { background: var(--stalled); }
.timeline .when { font-size: 0.85rem; color: var(--muted); }

.tabs { display: flex; flex-wrap: wrap; gap: 0.25rem; margin-bottom: 0.75rem; border-bottom: 1px solid var(--line); }
.tabs a { padding: 0.35rem 0.7rem; border-radius: 6px 6px 0 0; color: var(--text); }
.tabs a[aria-current="page"] { background: var(--code); font-weight: 600; }
.tabs .count { color: var(--muted); font-variant-numeric: tabular-nums; }
.pager { display: flex; justify-content: space-between; align-items: center; margin-top: 0.75rem; gap: 0.5rem; }

.day { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-bottom: 0.75rem; }
.stats { display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0 0 0.75rem; }
.stats div { display: flex; flex-direction: column; }
.stats dt { color: var(--muted); font-size: 0.85rem; }
.stats dd { margin: 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
@media (min-width: 900px) { .charts { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.chart { margin: 0; }
.chart figcaption { margin-bottom: 0.35rem; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .bar { fill: var(--accent); }
.chart .bar:hover { fill: var(--running); }
.chart .base, .chart .band { stroke: var(--line); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 14px; }
.chart .grid { stroke: var(--line); stroke-width: 1; stroke-dasharray: 2 3; }
.chart .tick { font-size: 12px; }
.chart .peak { fill: var(--text); font-size: 13px; }
.col-actions { white-space: nowrap; }
.col-actions form { margin-right: 0.25rem; }

.live { font-size: 0.75rem; font-weight: 600; vertical-align: middle; color: var(--running); border: 1px solid currentColor; border-radius: 999px; padding: 0.05rem 0.5rem; }
.live[data-state="offline"], .live[data-state="reconnecting"] { color: var(--stalled); }
.login { max-width: 24rem; margin: 3rem auto; }
.login form { display: flex; flex-direction: column; gap: 0.75rem; }
`;
