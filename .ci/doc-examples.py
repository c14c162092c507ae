#!/usr/bin/env python3
"""Counts the public items of the library crates (fn, struct, enum, trait, type, union, and the
methods of public traits) and whether the doc comment right above each carries a runnable example
(a ``` or ```rust fence; not text, ignore, no_run or compile_fail). Skips `#[cfg(test)]` modules,
`#[doc(hidden)]` items and the files of private modules that are not re-exported. A grep, not a
parser: good for the numbers in docs/ARCHITECTURE.md, not for CI.

usage: python3 .ci/doc-examples.py [ROOT] [-v]   (-v lists the items without an example)"""
import os, re, sys

ITEM = re.compile(r'^\s*pub\s+(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(fn|struct|enum|trait|type|union|macro_rules!|mod)\s+([A-Za-z_][A-Za-z0-9_]*)')
TRAIT_FN = re.compile(r'^\s*()(?:async\s+)?fn\s+([A-Za-z_]\w*)')

def runnable_fence(line):
    s = line.strip()
    for p in ('///', '//!'):
        if s.startswith(p):
            s = s[len(p):].strip()
    if not s.startswith('```'):
        return None
    tag = s[3:].strip()
    return tag

def doc_block(lines, i):
    j = i - 1
    block = []
    while j >= 0:
        s = lines[j].strip()
        if s.startswith('///') or s.startswith('#['):
            block.append(lines[j]); j -= 1; continue
        if (s.endswith(')]') or s.endswith(']')) and not s.startswith('//'):
            # tail of a multi-line attribute: go back to its start
            k = j
            while k >= 0 and not lines[k].strip().startswith('#['):
                k -= 1
            if k >= 0 and i - k < 40:
                block.extend(lines[k:j+1]); j = k - 1; continue
        break
    block.reverse()
    return block

def has_example(block):
    in_fence = False
    for l in block:
        tag = runnable_fence(l)
        if tag is None: continue
        if not in_fence:
            in_fence = True
            tags = [t.strip() for t in tag.split(',') if t.strip()]
            if all(t in ('rust', 'edition2024', 'edition2021', 'should_panic') for t in tags):
                return True
        else:
            in_fence = False
    return False

def scan(path):
    lines = open(path).read().split('\n')
    items = []
    skip_depth = None
    depth = 0
    pending_test = False
    trait_depth = None
    for i, l in enumerate(lines):
        s = l.strip()
        if skip_depth is None:
            if s.startswith('#[cfg(test)]'):
                pending_test = True
            elif pending_test and re.match(r'(pub\s+)?mod\s+\w+\s*\{', s):
                skip_depth = depth
                pending_test = False
            elif pending_test and s and not s.startswith('#[') and not s.startswith('//'):
                pending_test = False
            m = ITEM.match(l)
            if not m and trait_depth is not None and depth == trait_depth + 1:
                m = TRAIT_FN.match(l)
            if m and m.group(1) == 'trait' and trait_depth is None:
                trait_depth = depth
            if m and skip_depth is None and m.group(1) != 'mod':
                blk = doc_block(lines, i)
                if any('doc(hidden)' in b or 'cfg(doctest)' in b for b in blk):
                    pass
                else:
                    items.append((m.group(1), m.group(2), i + 1, has_example(blk)))
        # brace depth, ignoring strings crudely
        code = re.sub(r'"(\\.|[^"\\])*"', '""', l.split('//')[0] if '"' not in l else l)
        code = re.sub(r"'(\\.|[^'\\])'", "''", code)
        depth += code.count('{') - code.count('}')
        if trait_depth is not None and depth <= trait_depth and '}' in code:
            trait_depth = None
        if skip_depth is not None and depth <= skip_depth and '}' in code:
            skip_depth = None
    return items

CRATES = {
    'workflow': ('src', ['private.rs']),
    'workflow-asl': ('workflow-asl/src', []),
    'workflow-runtime': ('workflow-runtime/src', ['cancel.rs', 'engine/', 'fnv.rs', 'jtemplate.rs', 'recorder.rs', 'sem.rs', 'store/tests.rs']),
    'workflow-aws': ('workflow-aws/src', []),
}
KEEP = {'workflow-runtime': ['engine/test_state.rs']}

def crate_items(root, name):
    src, excl = CRATES[name]
    out = []
    for dp, dn, fn in os.walk(os.path.join(root, src)):
        for f in sorted(fn):
            if not f.endswith('.rs'): continue
            p = os.path.join(dp, f)
            rel = os.path.relpath(p, os.path.join(root, src))
            if f in ('tests.rs',) or '/tests/' in rel: continue
            if any(rel.startswith(e) for e in excl) and rel not in KEEP.get(name, []): continue
            for it in scan(p):
                out.append((rel,) + it)
    return out

if __name__ == '__main__':
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    verbose = '-v' in sys.argv
    tot = [0, 0]
    for name in CRATES:
        its = crate_items(root, name)
        w = sum(1 for i in its if i[4])
        print(f'{name:18} {w:4} / {len(its):4} public items with a runnable example')
        tot[0] += w; tot[1] += len(its)
        if verbose:
            for rel, kind, ident, line, ex in its:
                if not ex: print(f'    - {rel}:{line} {kind} {ident}')
    print(f'{"total":18} {tot[0]:4} / {tot[1]:4}')
    # The names the facade re-exports at its root, looked up where they are defined.
    facade = {'workflow-asl': ['StateMachine', 'Diagnostic', 'Failure'],
              'workflow-runtime': ['CompileError', 'EventKind', 'Execution', 'ExecutionOutcome', 'ExecutionStatus', 'Handlers', 'HistoryEvent', 'HistoryLevel', 'MockConfig', 'MockTestCase', 'Program', 'Runtime', 'RuntimeBuilder', 'StartError', 'StartOptions', 'TaskContext', 'TaskError'],
              'workflow': ['Workflow', 'RuntimeExt', 'RunError', 'WorkflowState', 'TaskHandler', 'placeholders', 'substitute', 'WorkflowData', 'StateTest', 'StateTestResult']}
    got = []
    for crate, names in facade.items():
        its = crate_items(root, crate)
        for n in names:
            ok = any(i[2] == n and i[4] for i in its if i[1] != 'fn' or n[0].islower())
            got.append((n, ok))
    print(f'facade root names   {sum(ok for _, ok in got):4} / {len(got):4} (types/functions, not their methods)')
    if verbose:
        print('    without:', ' '.join(n for n, ok in got if not ok))
