
use builtin;
use str;

set edit:completion:arg-completer[dl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'dl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'dl'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand fetch 'Download every file named by the SOURCEs'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dl;fetch'= {
            cand -i 'A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs (wget''s -i)'
            cand --input-file 'A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs (wget''s -i)'
            cand -d 'Download directory, created if missing [default: .] [env: DL_DIR]'
            cand -P 'Download directory, created if missing [default: .] [env: DL_DIR]'
            cand --dir 'Download directory, created if missing [default: .] [env: DL_DIR]'
            cand --directory-prefix 'Download directory, created if missing [default: .] [env: DL_DIR]'
            cand --output-dir 'Download directory, created if missing [default: .] [env: DL_DIR]'
            cand -w 'Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]'
            cand --workers 'Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]'
            cand --report 'Also write the summary to PATH as FORMAT: junit (XML test report, replaced) or markdown (appended, e.g. markdown:$GITHUB_STEP_SUMMARY); repeatable'
            cand --progress 'How progress is shown on stderr [default: auto] [env: DL_PROGRESS]'
            cand --on-exist 'When the final file already exists [default: skip]'
            cand -o 'Name of the file when the input is exactly one URL: a path inside --dir (e.g. report.pdf or docs/report.pdf)'
            cand --output 'Name of the file when the input is exactly one URL: a path inside --dir (e.g. report.pdf or docs/report.pdf)'
            cand --shard 'Take only the K-th of N deterministic slices of the input (by destination path)'
            cand -H 'Extra request header, ''Name: value'' (repeatable; values are never printed)'
            cand --header 'Extra request header, ''Name: value'' (repeatable; values are never printed)'
            cand --netrc-file 'Like --netrc, with the credentials of FILE (which must be readable)'
            cand --user-agent 'User-Agent header [default: dl/VERSION]'
            cand --max-size 'Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]'
            cand --max-filesize 'Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]'
            cand --connect-timeout 'Time allowed to connect [default: 15s]'
            cand --read-timeout 'Longest silence while waiting for a response or its body [default: 30s]'
            cand --timeout 'Both --connect-timeout and --read-timeout, except one given itself'
            cand --min-speed 'Abandon (and retry) an attempt averaging under RATE for --min-speed-time (e.g. 10K) [default: off]'
            cand --min-speed-time 'Window over which --min-speed is measured [default: 30s]'
            cand --max-per-host 'Requests to one host at once (connections, or HTTP/2 streams), across all files, 1-1024 [default: 8]'
            cand -s 'Connections for one large file when the server supports Range, 1-64 [default: 1]'
            cand --split 'Connections for one large file when the server supports Range, 1-64 [default: 1]'
            cand --limit-rate 'Overall bandwidth cap shared by all transfers (e.g. 500K, 10M per second) [default: off]'
            cand --retries 'Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]'
            cand --retry 'Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]'
            cand --retry-delay 'Backoff before the first retry, doubling each time [default: 500ms]'
            cand --max-retry-delay 'Longest backoff between two attempts [default: 30s]'
            cand --max-retry-after 'Longest Retry-After a server may ask for; a longer one fails the file [default: 5m]'
            cand --proxy 'Proxy for every request, http:// or https:// (user:password@ for its credentials, never printed), loopback hosts included; '''' for none. Overrides http_proxy, https_proxy and all_proxy [default: from those variables, except for loopback hosts]'
            cand --noproxy 'Hosts that bypass any proxy: comma-separated names (subdomains included), IP addresses or CIDR blocks, * for all; replaces no_proxy / NO_PROXY'
            cand --cacert 'Also trust the CA certificates in this PEM file (repeatable; added to the system''s trust and SSL_CERT_FILE / SSL_CERT_DIR)'
            cand --config 'Config file [default: $DL_CONFIG, else $XDG_CONFIG_HOME/dl/config.toml, else ~/.config/dl/config.toml]'
            cand --profile 'Use the [profile.NAME] table of the config file over its top level [env: DL_PROFILE]'
            cand --json 'Print the JSON summary on stdout instead of the table'
            cand -q 'Quiet success, loud failure: no progress, no table; one stderr line per failed file (--json still prints its document)'
            cand --quiet 'Quiet success, loud failure: no progress, no table; one stderr line per failed file (--json still prints its document)'
            cand -v 'More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --compressed 'Ask for gzip, br or zstd and store the decoded bytes (such files are not resumed or split); without it, bytes are stored exactly as served'
            cand --content-disposition 'Name a file the input does not name from the server''s Content-Disposition (RFC 6266, filename* first), sanitised like names from URLs and kept inside --dir'
            cand --allow-empty 'Accept an input with no entries (exit 0 instead of 2)'
            cand --dry-run 'Resolve and validate everything, print the plan, download nothing'
            cand -c 'Accepted for wget habits: resume is always on, so this changes nothing'
            cand --continue 'Accepted for wget habits: resume is always on, so this changes nothing'
            cand --location-trusted 'Send -H headers, manifest headers and URL credentials to other hosts a redirect leads to too (by default they go only to the scheme, host and port they were given for)'
            cand --netrc 'Send credentials from ~/.netrc ($NETRC if set) to the hosts it has an entry for, when the URL has none of its own and no -H Authorization is given; never after a redirect to another host'
            cand --no-netrc 'Read no netrc file, whatever the config file says'
            cand -k 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)'
            cand --insecure 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)'
            cand --no-check-certificate 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dl;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dl;help'= {
            cand fetch 'Download every file named by the SOURCEs'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dl;help;fetch'= {
        }
        &'dl;help;completions'= {
        }
        &'dl;help;help'= {
        }
    ]
    $completions[$command]
}
