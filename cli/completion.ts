import type { CompletionShell } from './options.js';

/**
 * `expctl completion bash|zsh|fish`: the shell side of completion, kept
 * thin. Each script hands the words before the cursor and the word at it to
 * `expctl __complete` (cli/complete.ts), which answers from the program's own
 * definition, so commands, options, experiment ids and state names never go
 * stale. The program called is the one on the command line (`expctl`, found
 * on PATH). Output lines are `value<TAB>description`, or `:files` / `:dirs`
 * for paths, completed by the shell.
 */

const BASH = `# expctl completion for bash. Load it in this shell (or in every new one, from ~/.bashrc):
#   source <(expctl completion bash)
# or, with the bash-completion package, install it for every new shell:
#   expctl completion bash > ~/.local/share/bash-completion/completions/expctl
_expctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line
  local -a lines
  COMPREPLY=()
  mapfile -t lines < <("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
  for line in "\${lines[@]}"; do
    case $line in
      :files) compopt -o filenames 2>/dev/null; mapfile -t -O "\${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur") ;;
      :dirs) compopt -o filenames 2>/dev/null; mapfile -t -O "\${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur") ;;
      *) COMPREPLY+=("\${line%%$'\\t'*}") ;;
    esac
  done
}
complete -F _expctl expctl
`;

const ZSH = `#compdef expctl
# expctl completion for zsh. Load it in this shell (or in every new one, from ~/.zshrc after compinit):
#   source <(expctl completion zsh)
# or install it in a folder on $fpath (in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)):
#   expctl completion zsh > ~/.zfunc/_expctl
_expctl() {
  local -a lines values
  local line
  lines=("\${(@f)$("\${words[1]}" __complete -- "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  for line in "\${lines[@]}"; do
    case $line in
      :files) _files; return ;;
      :dirs) _files -/; return ;;
      '') ;;
      *$'\\t'*) values+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}") ;;
      *) values+=("\${line//:/\\\\:}") ;;
    esac
  done
  (( \${#values} )) && _describe -t values expctl values
}
if [[ "\${funcstack[1]}" == _expctl ]]; then _expctl "$@"; else compdef _expctl expctl; fi
`;

const FISH = `# expctl completion for fish. Load it in this shell:
#   expctl completion fish | source
# or install it for every new shell:
#   expctl completion fish > ~/.config/fish/completions/expctl.fish
function __expctl_complete
    set -l tokens (commandline -opc)
    set -l program $tokens[1]
    set -e tokens[1]
    set -l current (commandline -ct)
    for line in ($program __complete -- $tokens "$current" 2>/dev/null)
        switch $line
            case :files
                __fish_complete_path "$current"
            case :dirs
                __fish_complete_directories "$current"
            case '*'
                echo $line
        end
    end
end
complete -c expctl -f -a '(__expctl_complete)'
`;

const SCRIPTS: Record<CompletionShell, string> = { bash: BASH, zsh: ZSH, fish: FISH };

export function completionScript(shell: CompletionShell): string {
  return SCRIPTS[shell];
}
