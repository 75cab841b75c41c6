# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dl_global_optspecs
    string join \n h/help V/version
end

function __fish_dl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dl_using_subcommand
    set -l cmd (__fish_dl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dl -n "__fish_dl_needs_command" -s h -l help -d 'Print help'
complete -c dl -n "__fish_dl_needs_command" -s V -l version -d 'Print version'
complete -c dl -n "__fish_dl_needs_command" -f -a "fetch" -d 'Download every file named by the SOURCEs'
complete -c dl -n "__fish_dl_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dl -n "__fish_dl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s i -l input-file -d 'A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs (wget\'s -i)' -r -F
complete -c dl -n "__fish_dl_using_subcommand fetch" -s d -s P -l dir -l directory-prefix -l output-dir -d 'Download directory, created if missing [default: .] [env: DL_DIR]' -r -f -a "(__fish_complete_directories)"
complete -c dl -n "__fish_dl_using_subcommand fetch" -s w -l workers -d 'Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l report -d 'Also write the summary to PATH as FORMAT: junit (XML test report, replaced) or markdown (appended, e.g. markdown:$GITHUB_STEP_SUMMARY); repeatable' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l progress -d 'How progress is shown on stderr [default: auto] [env: DL_PROGRESS]' -r -f -a "auto\t'Bars when stderr is a terminal, plain lines otherwise'
bars\t'Live bars: one per active file plus an overall bar'
plain\t'One line per finished file'
ndjson\t'One JSON event per line'
none\t'Nothing'"
complete -c dl -n "__fish_dl_using_subcommand fetch" -l on-exist -d 'When the final file already exists [default: skip]' -r -f -a "skip\t'Leave it and report the file as skipped (verified against the checksum when one is given; without one, any file under the name counts as done)'
overwrite\t'Replace it, atomically, once the new file is complete and verified'
update\t'Replace it only when the server has a newer one (If-Modified-Since the file\'s modification time), or when it does not match the checksum'
rename\t'Keep it and save the new file as NAME.1.EXT (the first free number)'
fail\t'Leave it and report the file as failed'"
complete -c dl -n "__fish_dl_using_subcommand fetch" -s o -l output -d 'Name of the file when the input is exactly one URL: a path inside --dir (e.g. report.pdf or docs/report.pdf)' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l shard -d 'Take only the K-th of N deterministic slices of the input (by destination path)' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -s H -l header -d 'Extra request header, \'Name: value\' (repeatable; values are never printed)' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l netrc-file -d 'Like --netrc, with the credentials of FILE (which must be readable)' -r -F
complete -c dl -n "__fish_dl_using_subcommand fetch" -l user-agent -d 'User-Agent header [default: dl/VERSION]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l max-size -l max-filesize -d 'Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l connect-timeout -d 'Time allowed to connect [default: 15s]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l read-timeout -d 'Longest silence while waiting for a response or its body [default: 30s]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l timeout -d 'Both --connect-timeout and --read-timeout, except one given itself' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l min-speed -d 'Abandon (and retry) an attempt averaging under RATE for --min-speed-time (e.g. 10K) [default: off]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l min-speed-time -d 'Window over which --min-speed is measured [default: 30s]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l max-per-host -d 'Requests to one host at once (connections, or HTTP/2 streams), across all files, 1-1024 [default: 8]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -s s -l split -d 'Connections for one large file when the server supports Range, 1-64 [default: 1]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l limit-rate -d 'Overall bandwidth cap shared by all transfers (e.g. 500K, 10M per second) [default: off]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l retries -l retry -d 'Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l retry-delay -d 'Backoff before the first retry, doubling each time [default: 500ms]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l max-retry-delay -d 'Longest backoff between two attempts [default: 30s]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l max-retry-after -d 'Longest Retry-After a server may ask for; a longer one fails the file [default: 5m]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l proxy -d 'Proxy for every request, http:// or https:// (user:password@ for its credentials, never printed), loopback hosts included; \'\' for none. Overrides http_proxy, https_proxy and all_proxy [default: from those variables, except for loopback hosts]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l noproxy -d 'Hosts that bypass any proxy: comma-separated names (subdomains included), IP addresses or CIDR blocks, * for all; replaces no_proxy / NO_PROXY' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l cacert -d 'Also trust the CA certificates in this PEM file (repeatable; added to the system\'s trust and SSL_CERT_FILE / SSL_CERT_DIR)' -r -F
complete -c dl -n "__fish_dl_using_subcommand fetch" -l config -d 'Config file [default: $DL_CONFIG, else $XDG_CONFIG_HOME/dl/config.toml, else ~/.config/dl/config.toml]' -r -F
complete -c dl -n "__fish_dl_using_subcommand fetch" -l profile -d 'Use the [profile.NAME] table of the config file over its top level [env: DL_PROFILE]' -r
complete -c dl -n "__fish_dl_using_subcommand fetch" -l json -d 'Print the JSON summary on stdout instead of the table'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s q -l quiet -d 'Quiet success, loud failure: no progress, no table; one stderr line per failed file (--json still prints its document)'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s v -l verbose -d 'More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l compressed -d 'Ask for gzip, br or zstd and store the decoded bytes (such files are not resumed or split); without it, bytes are stored exactly as served'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l content-disposition -d 'Name a file the input does not name from the server\'s Content-Disposition (RFC 6266, filename* first), sanitised like names from URLs and kept inside --dir'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l allow-empty -d 'Accept an input with no entries (exit 0 instead of 2)'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l dry-run -d 'Resolve and validate everything, print the plan, download nothing'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s c -l continue -d 'Accepted for wget habits: resume is always on, so this changes nothing'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l location-trusted -d 'Send -H headers, manifest headers and URL credentials to other hosts a redirect leads to too (by default they go only to the scheme, host and port they were given for)'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l netrc -d 'Send credentials from ~/.netrc ($NETRC if set) to the hosts it has an entry for, when the URL has none of its own and no -H Authorization is given; never after a redirect to another host'
complete -c dl -n "__fish_dl_using_subcommand fetch" -l no-netrc -d 'Read no netrc file, whatever the config file says'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s k -l insecure -l no-check-certificate -d 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dl -n "__fish_dl_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c dl -n "__fish_dl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c dl -n "__fish_dl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c dl -n "__fish_dl_using_subcommand help; and not __fish_seen_subcommand_from fetch completions help" -f -a "fetch" -d 'Download every file named by the SOURCEs'
complete -c dl -n "__fish_dl_using_subcommand help; and not __fish_seen_subcommand_from fetch completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dl -n "__fish_dl_using_subcommand help; and not __fish_seen_subcommand_from fetch completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
