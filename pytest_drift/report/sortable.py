"""Sorting and filtering of report.html's tables, in the page itself: no external script, so
the report works offline and from a CI artifact.

Every table `render.html_table` writes has header cells with class `sort` and a filter box
before it. A click on a header (or Enter on it) sorts the body by that column, ascending and
then descending: cells that start with a number (`0.900 [0.8, 1.0]`, `1,500 (200)`, `75%`)
compare as numbers, other text in natural order (`r2` before `r10`), empty cells last in both
directions; equal cells keep the page's order. The filter box hides the rows whose text does
not contain every word typed (case-insensitive). Rows keep their classes (the leaderboard's
reference rows stay greyed wherever they land)."""

from __future__ import annotations

CSS = """th.sort{cursor:pointer;user-select:none}th.sort:hover{background:#e4e4e4}
th[aria-sort=ascending]::after{content:' \\25B2';font-size:9px}th[aria-sort=descending]::after{content:' \\25BC';font-size:9px}
input.filter{font-size:12px;margin:.4em 0 0;padding:2px 4px;width:16em}tr.nomatch{display:none}"""

FILTER_BOX = "<input type='search' class='filter' placeholder='filter rows' aria-label='filter rows'>"

SCRIPT = r"""
(function(){
// a leading number, commas as thousands separators: '1,500 (200)' -> 1500, '75%' -> 75
const NUM=/^\s*([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?)/i;
function key(cell){const t=(cell?cell.textContent:'').trim();
  if(t===''||t==='nan'||t==='-')return {empty:true,num:null,text:''};
  const m=NUM.exec(t);return {empty:false,num:m?parseFloat(m[1].replace(/,/g,'')):null,text:t};}
function compare(a,b){
  if(a.num!==null&&b.num!==null)return a.num-b.num;
  if(a.num!==null)return -1;if(b.num!==null)return 1;  // numbers before words
  return a.text.localeCompare(b.text,undefined,{numeric:true,sensitivity:'base'});}
function sortBy(th){
  const table=th.closest('table'),body=table.tBodies[0];if(!body)return;
  const col=Array.prototype.indexOf.call(th.parentNode.children,th);
  const dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
  for(const h of th.parentNode.children)h.removeAttribute('aria-sort');
  th.setAttribute('aria-sort',dir);
  const sign=dir==='ascending'?1:-1;
  const rows=Array.from(body.rows).map(r=>({r:r,k:key(r.cells[col]),i:+r.dataset.order}));
  rows.sort((x,y)=>{
    if(x.k.empty!==y.k.empty)return x.k.empty?1:-1;  // empty cells last, whichever the direction
    const c=x.k.empty?0:compare(x.k,y.k);return c!==0?sign*c:x.i-y.i;});
  for(const x of rows)body.appendChild(x.r);}
function filterRows(input,table){
  const words=input.value.toLowerCase().split(/\s+/).filter(w=>w);
  for(const r of table.tBodies[0].rows){const t=r.textContent.toLowerCase();
    r.classList.toggle('nomatch',!words.every(w=>t.includes(w)));}}
function init(){
  for(const table of document.querySelectorAll('table.sortable')){
    const body=table.tBodies[0];if(!body)continue;
    Array.from(body.rows).forEach((r,i)=>{r.dataset.order=i;});
    for(const th of table.querySelectorAll('thead th.sort')){
      th.addEventListener('click',()=>sortBy(th));
      th.addEventListener('keydown',e=>{if(e.key==='Enter'){e.preventDefault();sortBy(th);}});}
    const box=table.parentNode.previousElementSibling;
    if(box&&box.classList.contains('filter'))box.addEventListener('input',()=>filterRows(box,table));}}
if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',init);}else{init();}
})();
"""
