import type { Argument, Command, Option } from 'commander';

/**
 * What a value on the command line is, for completion: ids `dag __complete` lists (states, runs,
 * labels), folders, files, one of fixed choices, or free text (nothing to offer).
 */
export type ValueKind = { type: 'states' | 'runs' | 'labels' | 'dirs' | 'files' | 'text' } | { type: 'choices'; choices: string[] };

export interface CompletionFlag {
  flag: string;
  description: string;
  /** The kind of value the flag takes; undefined for a switch. */
  value?: ValueKind;
}

export interface CompletionCommand {
  name: string;
  description: string;
  flags: CompletionFlag[];
  /** The kinds of its positional arguments in order; `variadic`: the last one repeats. */
  args: ValueKind[];
  variadic: boolean;
}

/** Every command of the program (hidden ones left out), with their flags and arguments, as completion needs them. */
export interface CompletionModel {
  globals: CompletionFlag[];
  commands: CompletionCommand[];
}

/** The kind a placeholder names (`--from <state>`, `<run1>`, `[states...]`): one naming convention, read once. */
export function kindOfPlaceholder(name: string, choices?: readonly string[]): ValueKind {
  if (choices?.length) return { type: 'choices', choices: [...choices] };
  if (/^states?$/.test(name)) return { type: 'states' };
  if (/^run\d?$/.test(name)) return { type: 'runs' };
  if (name === 'label') return { type: 'labels' };
  if (name === 'dir') return { type: 'dirs' };
  if (/file/.test(name)) return { type: 'files' };
  return { type: 'text' };
}

function flagOf(o: Option): CompletionFlag {
  const placeholder = /[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/.exec(o.flags)?.[1];
  const value = o.required || o.optional ? kindOfPlaceholder(placeholder?.includes('|') ? 'file' : (placeholder ?? ''), o.argChoices) : undefined;
  return { flag: o.long ?? o.short!, description: o.description, value };
}

function argOf(a: Argument): ValueKind {
  return kindOfPlaceholder(a.name(), a.argChoices);
}

/** Reads the commander program: one source of truth for the commands, flags and their values. */
export function completionModel(program: Command): CompletionModel {
  const visible = (o: Option) => !o.hidden;
  const help: CompletionFlag = { flag: '--help', description: 'display help for command' };
  return {
    globals: [...program.options.filter(visible).map(flagOf), help],
    commands: program.commands
      .filter((c) => !(c as unknown as { _hidden: boolean })._hidden)
      .map((c) => ({
        name: c.name(),
        description: c.description(),
        flags: c.options.filter(visible).map(flagOf),
        args: c.registeredArguments.map(argOf),
        variadic: c.registeredArguments.at(-1)?.variadic ?? false,
      })),
  };
}

/** A value kind as the scripts' helper functions name it: `states`, `choices:a b c`. */
const kindWord = (k: ValueKind) => (k.type === 'choices' ? `choices:${k.choices.join(' ')}` : k.type);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell functions both scripts share (bash and zsh read the same `case`): the flags of a
 * command, the kind of value a flag takes (nothing for a switch), the kind of a positional argument.
 */
function sharedFunctions(m: CompletionModel): string {
  const globalFlags = m.globals.map((f) => f.flag);
  const flagCases = m.commands.map((c) => `    ${quote(c.name)}) echo ${quote([...c.flags.map((f) => f.flag), ...globalFlags].join(' '))} ;;`);
  const valueCases: string[] = [];
  for (const c of m.commands) for (const f of c.flags) if (f.value) valueCases.push(`    ${quote(`${c.name} ${f.flag}`)}) echo ${quote(kindWord(f.value))} ;;`);
  for (const f of m.globals) if (f.value) valueCases.push(`    *${quote(` ${f.flag}`)}) echo ${quote(kindWord(f.value))} ;;`);
  const argCases: string[] = [];
  for (const c of m.commands) {
    c.args.forEach((k, i) => {
      const last = c.variadic && i === c.args.length - 1;
      argCases.push(`    ${quote(`${c.name} ${i}`)}${last ? `|${quote(`${c.name} `)}*` : ''}) echo ${quote(kindWord(k))} ;;`);
    });
  }
  return [
    `_dag_commands=${quote(m.commands.map((c) => c.name).join(' '))}`,
    '',
    '# the flags of command $1 (dag: before any command)',
    '_dag_flags() {',
    '  case "$1" in',
    ...flagCases,
    `    *) echo ${quote(globalFlags.join(' '))} ;;`,
    '  esac',
    '}',
    '',
    '# the kind of value flag $2 of command $1 takes; nothing for a switch',
    '_dag_value_kind() {',
    '  case "$1 $2" in',
    ...valueCases,
    '  esac',
    '}',
    '',
    '# the kind of the positional argument $2 (from 0) of command $1',
    '_dag_arg_kind() {',
    '  case "$1 $2" in',
    ...argCases,
    '  esac',
    '}',
    '',
    '# ids the project and its runs folder have, from dag itself ($1: states, runs or labels)',
    '_dag_ids() {',
    '  local dag="${_dag_words[1]}"',
    '  if [ -n "$_dag_root" ]; then "$dag" --root "$_dag_root" __complete "$1" 2>/dev/null; else "$dag" __complete "$1" 2>/dev/null; fi',
    '}',
  ].join('\n');
}

/**
 * The scan both scripts make of the words before the cursor: the command, the --root given, and
 * how many positional arguments precede the cursor (values of flags skipped).
 */
const SCAN = `  _dag_cmd= _dag_root= _dag_npos=0
  local i w kind
  for ((i = 2; i < _dag_cword; i++)); do
    w="\${_dag_words[i]}"
    case "$w" in
      --root) _dag_root="\${_dag_words[i+1]}"; ((i++)) ;;
      -*) kind="$(_dag_value_kind "\${_dag_cmd:-dag}" "$w")"; [ -n "$kind" ] && ((i++)) ;;
      *) if [ -z "$_dag_cmd" ]; then _dag_cmd="$w"; else ((_dag_npos++)); fi ;;
    esac
  done
  _dag_root="\${_dag_root/#\\~/$HOME}"`;

export function bashScript(m: CompletionModel): string {
  return `# bash completion for dag (generated by \`dag completion bash\`)
# load it now: source <(dag completion bash)
# or for every shell: dag completion bash > ~/.local/share/bash-completion/completions/dag

${sharedFunctions(m)}

# COMPREPLY for a value of kind $1 that starts with $2
_dag_reply() {
  case "$1" in
    states | runs | labels) COMPREPLY=($(compgen -W "$(_dag_ids "$1")" -- "$2")) ;;
    choices:*) COMPREPLY=($(compgen -W "\${1#choices:}" -- "$2")) ;;
    dirs) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;
    files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
    *) COMPREPLY=() ;;
  esac
}

_dag() {
  # the words from 1, as zsh numbers them, so that both scripts share the scan
  local _dag_words=("" "\${COMP_WORDS[@]}") _dag_cword=$((COMP_CWORD + 1)) _dag_cmd _dag_root _dag_npos
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
${SCAN}
  kind="$(_dag_value_kind "\${_dag_cmd:-dag}" "$prev")"
  if [ "$COMP_CWORD" -gt 1 ] && [ -n "$kind" ]; then _dag_reply "$kind" "$cur"
  elif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_dag_flags "\${_dag_cmd:-dag}")" -- "$cur"))
  elif [ -z "$_dag_cmd" ]; then COMPREPLY=($(compgen -W "$_dag_commands" -- "$cur"))
  else _dag_reply "$(_dag_arg_kind "$_dag_cmd" "$_dag_npos")" "$cur"
  fi
}

complete -F _dag dag
`;
}

export function zshScript(m: CompletionModel): string {
  const described = (items: { name: string; description: string }[]) => items.map((x) => quote(`${x.name.replace(/:/g, '\\:')}:${x.description.split('\n')[0]!.slice(0, 100)}`)).join(' ');
  const flagDescriptions = [
    ...m.commands.map((c) => `    ${quote(c.name)}) _dag_described=(${described([...c.flags, ...m.globals].map((f) => ({ name: f.flag, description: f.description })))}) ;;`),
    `    *) _dag_described=(${described(m.globals.map((f) => ({ name: f.flag, description: f.description })))}) ;;`,
  ];
  return `#compdef dag
# zsh completion for dag (generated by \`dag completion zsh\`)
# load it now: source <(dag completion zsh)
# or for every shell: dag completion zsh > "\${fpath[1]}/_dag"

${sharedFunctions(m)}

# the flags of command $1 with their help, for _describe
_dag_flag_descriptions() {
  case "$1" in
${flagDescriptions.join('\n')}
  esac
}

# candidates for a value of kind $1
_dag_reply() {
  case "$1" in
    states | runs | labels) local -a ids; ids=(\${(f)"$(_dag_ids "$1")"}); compadd -a ids ;;
    choices:*) compadd -- \${=1#choices:} ;;
    dirs) _files -/ ;;
    files) _files ;;
  esac
}

_dag() {
  local -a _dag_words _dag_described _dag_command_list
  local _dag_cword=$CURRENT _dag_cmd _dag_root _dag_npos
  _dag_words=("\${words[@]}")
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
${SCAN}
  kind="$(_dag_value_kind "\${_dag_cmd:-dag}" "$prev")"
  if (( CURRENT > 2 )) && [ -n "$kind" ]; then _dag_reply "$kind"
  elif [[ $cur == -* ]]; then _dag_flag_descriptions "\${_dag_cmd:-dag}"; _describe -t options option _dag_described
  elif [ -z "$_dag_cmd" ]; then _dag_command_list=(${described(m.commands)}); _describe -t commands command _dag_command_list
  else _dag_reply "$(_dag_arg_kind "$_dag_cmd" "$_dag_npos")"
  fi
}

if [ "\${funcstack[1]}" = _dag ]; then _dag "$@"; else compdef _dag dag; fi
`;
}
