"""Transcripts in the report: a terminal view (`pytest-drift show`) and the HTML episode
viewer of report.html.

report.html embeds each transcript as its own JSON script block, unparsed until a reader
opens that episode (`#ep=<episode id>`): a report over thousands of episodes loads as fast
as one without them. Past `BUDGET_CHARS` of embedded text the rest stay in transcripts.jsonl
(failing episodes are embedded first); their links say how to print them instead.
"""

from __future__ import annotations

import html
import json
import textwrap
from typing import Iterable
from urllib.parse import quote

from ..records import Transcript, TranscriptMessage

BUDGET_CHARS = 64_000_000
FOLD_CHARS = 600  # longer texts are folded (HTML) or cut (terminal, unless --full)
REASONING_MARK = "  ~ "  # starts every line of an assistant turn's reasoning in the terminal


def _args(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False) if arguments else "{}"
    except ValueError:
        return arguments


def _cut(text: str, full: bool) -> str:
    if full or len(text) <= FOLD_CHARS:
        return text
    return text[:FOLD_CHARS] + f"\n[... {len(text) - FOLD_CHARS} more characters; --full shows them]"


def _message_text(m: TranscriptMessage, evidence: set[int], full: bool) -> list[str]:
    mark = " <== evidence" if m.step is not None and m.step in evidence else ""
    step = f" (step {m.step})" if m.step is not None else ""
    if m.role == "tool":
        head = f"[tool result: {m.tool or '?'}{step}]" + (f" error: {m.error}" if m.error else "") + mark
    else:
        head = f"[{m.role}{step}]" + mark
    lines = [head]
    if m.reasoning:  # apart from the reply, each line marked: the model thought it, it did not say it
        lines.append("  reasoning (not part of the reply):")
        lines.append(textwrap.indent(_cut(m.reasoning, full), REASONING_MARK, lambda _: True))
    if m.content:
        lines.append(textwrap.indent(_cut(m.content, full), "  "))
    for c in m.tool_calls:
        at = f" (step {c.step})" if c.step is not None else ""
        lines.append(f"  -> {c.name}({_cut(_args(c.arguments), full)}){at}")
    return lines


def messages_text(messages: list[TranscriptMessage], full: bool = False, evidence: set[int] | None = None) -> str:
    """Messages in order, as the terminal shows them (`show`, and `show --step`)."""
    lines: list[str] = []
    for m in messages:
        lines += _message_text(m, evidence or set(), full)
    return "\n".join(lines)


def to_text(t: Transcript, full: bool = False) -> str:
    """The transcript for a terminal: header, evidence, then every message in order."""
    out = [f"episode {t.episode_id}",
           f"  model {t.model} | scenario {t.scenario} ({t.family}) | variant {t.variant} | repeat {t.repeat}",
           f"  termination {t.termination} | label {t.label_status} | source {t.source}"]
    if t.error:
        out.append(f"  not scored: {t.error}")
    if t.note:
        out.append(f"  note: {t.note}")
    if t.evidence:
        out.append("  evidence:")
        out += [f"    {line}" for line in t.evidence]
    out.append("")
    if t.messages:
        out.append(messages_text(t.messages, full, set(t.evidence_steps)))
    else:
        out.append("(no messages: the episode did not reach the model, or its conversation was not kept)")
    return "\n".join(out)


def href(episode_id: str) -> str:
    return "#ep=" + quote(episode_id, safe="")


def embed(lines: dict[str, str], first: Iterable[str] = (), budget: int = BUDGET_CHARS) -> tuple[str, set[str]]:
    """Script blocks holding the transcripts (raw JSON lines; `<` escaped so no text can close
    the block), episodes in `first` before the others, up to `budget` characters. Returns
    the HTML and the ids embedded."""
    order = [i for i in first if i in lines] + sorted(lines)
    parts: list[str] = []
    done: set[str] = set()
    used = 0
    for episode_id in order:
        if episode_id in done:
            continue
        line = lines[episode_id]
        if used + len(line) > budget:
            continue
        used += len(line)
        done.add(episode_id)
        parts.append(f"<script type='application/json' class='transcript' data-ep=\"{html.escape(episode_id)}\">"
                     f"{line.replace('<', chr(92) + 'u003c')}</script>")
    return "\n".join(parts), done


CSS = """#episode{border:2px solid #446;padding:0 1em 1em;margin:1em 0;background:#fbfbfe}
#episode .msg{border-left:4px solid #ccc;margin:.4em 0;padding:.2em .6em;font-size:13px}
#episode .system{border-color:#999;background:#f4f4f4}#episode .user{border-color:#5a8}
#episode .assistant{border-color:#46c}#episode .tool{border-color:#c93}
#episode .evidence{background:#fff3c4;border-color:#e0a800}#episode .err{color:#b00}
#episode .head{font-weight:600;font-size:12px;color:#334}#episode pre{white-space:pre-wrap;margin:.2em 0;padding:.4em}
#episode .call{font-family:monospace;font-size:12px;margin:.2em 0}tr.hidden{display:none}
#episode details.reasoning{margin:.2em 0;color:#555}#episode details.reasoning summary{font-size:12px;cursor:pointer}
#episode details.reasoning pre{background:#f1f1f6;border-left:3px dashed #99a;font-style:italic}
a.ep{font-size:11px;margin-right:.4em}"""

# Renders one transcript into #episode when the address ends in #ep=<id>; filters the episode
# index for #episodes?model=...&scenario=... . Text is set through textContent only.
SCRIPT = r"""
(function(){
const FOLD=%(fold)d;
function el(tag,cls,text){const e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
function block(text){
  if(text.length<=FOLD){return el('pre','',text);}
  const d=el('details');d.appendChild(el('summary','',text.slice(0,200).replace(/\s+/g,' ')+' ... ('+text.length+' characters)'));
  d.appendChild(el('pre','',text));return d;}
function pretty(a){try{return JSON.stringify(JSON.parse(a||'{}'));}catch(e){return a;}}
function find(id){for(const s of document.querySelectorAll('script.transcript')){if(s.dataset.ep===id)return s;}return null;}
function show(id){
  const box=document.getElementById('episode');box.replaceChildren();box.style.display='block';
  const back=el('a','','\u2190 back to the leaderboard');back.href='#leaderboard';box.appendChild(back);
  box.appendChild(el('h2','','Episode '+id));
  const s=find(id);
  if(!s){box.appendChild(el('p','','No transcript of this episode in this file. In a terminal: pytest-drift show \''+id+'\' REPORT_DIR'));box.scrollIntoView();return;}
  const t=JSON.parse(s.textContent);const ev=new Set(t.evidence_steps||[]);
  box.appendChild(el('p','',[t.model,t.scenario+' ('+(t.family||'')+')','variant '+(t.variant||''),'repeat '+(t.repeat||0),
    'termination '+(t.termination||''),'label '+(t.label_status||''),'source '+(t.source||'run')].join(' | ')));
  if(t.error)box.appendChild(el('p','err','Not scored: '+t.error));
  if(t.note)box.appendChild(el('p','','Note: '+t.note));
  if((t.evidence||[]).length){const ul=el('ul');for(const x of t.evidence)ul.appendChild(el('li','',x));
    box.appendChild(el('p','head','Evidence (highlighted below):'));box.appendChild(ul);}
  let first=null;
  for(const m of (t.messages||[])){
    const isEv=m.step!==undefined&&m.step!==null&&ev.has(m.step);
    const d=el('div','msg '+m.role+(isEv?' evidence':''));
    let head=m.role==='tool'?'tool result: '+(m.tool||'?'):m.role;
    if(m.step!==undefined&&m.step!==null)head+=' (step '+m.step+')';
    if(isEv)head+=' - evidence';
    d.appendChild(el('div','head',head));
    if(m.error)d.appendChild(el('div','err','error: '+m.error));
    if(m.reasoning){const r=el('details','reasoning');
      r.appendChild(el('summary','','Reasoning (not part of the reply, '+m.reasoning.length+' characters)'));
      r.appendChild(el('pre','',m.reasoning));d.appendChild(r);}
    if(m.content)d.appendChild(block(m.content));
    for(const c of (m.tool_calls||[])){
      const a=pretty(c.arguments);const line=el('div','call');
      line.appendChild(document.createTextNode('\u2192 '+c.name+'('));
      if(a.length>FOLD){line.appendChild(block(a));}else{line.appendChild(document.createTextNode(a));}
      line.appendChild(document.createTextNode(')'));d.appendChild(line);}
    if(isEv&&!first)first=d;
    box.appendChild(d);}
  if(!(t.messages||[]).length)box.appendChild(el('p','','No messages: the episode did not reach the model, or its conversation was not kept.'));
  box.scrollIntoView();}
function filter(query){
  const p=new URLSearchParams(query);const rows=document.querySelectorAll('#episode_index tr[data-ep]');
  let n=0;for(const r of rows){let ok=true;for(const [k,v] of p){if(r.dataset[k]!==v)ok=false;}
    r.classList.toggle('hidden',!ok);if(ok)n++;}
  const d=document.getElementById('episode_index_box');if(d){d.open=true;}
  const c=document.getElementById('episode_index_count');if(c)c.textContent=n+' episodes shown ('+(query||'all')+')';
  document.getElementById('episode_index').scrollIntoView();}
function route(){
  const h=decodeURIComponent(location.hash.slice(1));
  if(h.startsWith('ep=')){show(h.slice(3));return;}
  const box=document.getElementById('episode');if(box)box.style.display='none';
  if(h.startsWith('episodes')){filter(h.indexOf('?')>=0?h.slice(h.indexOf('?')+1):'');}}
window.addEventListener('hashchange',route);
if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',route);}else{route();}
})();
"""


def viewer_script() -> str:
    return SCRIPT % {"fold": FOLD_CHARS}
