
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'dl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'dl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'dl' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download every file named by the SOURCEs')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dl;fetch' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs (wget''s -i)')
            [CompletionResult]::new('--input-file', '--input-file', [CompletionResultType]::ParameterName, 'A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs (wget''s -i)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Download directory, created if missing [default: .] [env: DL_DIR]')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Download directory, created if missing [default: .] [env: DL_DIR]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Download directory, created if missing [default: .] [env: DL_DIR]')
            [CompletionResult]::new('--directory-prefix', '--directory-prefix', [CompletionResultType]::ParameterName, 'Download directory, created if missing [default: .] [env: DL_DIR]')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Download directory, created if missing [default: .] [env: DL_DIR]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Also write the summary to PATH as FORMAT: junit (XML test report, replaced) or markdown (appended, e.g. markdown:$GITHUB_STEP_SUMMARY); repeatable')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How progress is shown on stderr [default: auto] [env: DL_PROGRESS]')
            [CompletionResult]::new('--on-exist', '--on-exist', [CompletionResultType]::ParameterName, 'When the final file already exists [default: skip]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Name of the file when the input is exactly one URL: a path inside --dir (e.g. report.pdf or docs/report.pdf)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Name of the file when the input is exactly one URL: a path inside --dir (e.g. report.pdf or docs/report.pdf)')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Take only the K-th of N deterministic slices of the input (by destination path)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; values are never printed)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; values are never printed)')
            [CompletionResult]::new('--netrc-file', '--netrc-file', [CompletionResultType]::ParameterName, 'Like --netrc, with the credentials of FILE (which must be readable)')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent header [default: dl/VERSION]')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]')
            [CompletionResult]::new('--max-filesize', '--max-filesize', [CompletionResultType]::ParameterName, 'Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect [default: 15s]')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest silence while waiting for a response or its body [default: 30s]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Both --connect-timeout and --read-timeout, except one given itself')
            [CompletionResult]::new('--min-speed', '--min-speed', [CompletionResultType]::ParameterName, 'Abandon (and retry) an attempt averaging under RATE for --min-speed-time (e.g. 10K) [default: off]')
            [CompletionResult]::new('--min-speed-time', '--min-speed-time', [CompletionResultType]::ParameterName, 'Window over which --min-speed is measured [default: 30s]')
            [CompletionResult]::new('--max-per-host', '--max-per-host', [CompletionResultType]::ParameterName, 'Requests to one host at once (connections, or HTTP/2 streams), across all files, 1-1024 [default: 8]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Connections for one large file when the server supports Range, 1-64 [default: 1]')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'Connections for one large file when the server supports Range, 1-64 [default: 1]')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, 'Overall bandwidth cap shared by all transfers (e.g. 500K, 10M per second) [default: off]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]')
            [CompletionResult]::new('--retry-delay', '--retry-delay', [CompletionResultType]::ParameterName, 'Backoff before the first retry, doubling each time [default: 500ms]')
            [CompletionResult]::new('--max-retry-delay', '--max-retry-delay', [CompletionResultType]::ParameterName, 'Longest backoff between two attempts [default: 30s]')
            [CompletionResult]::new('--max-retry-after', '--max-retry-after', [CompletionResultType]::ParameterName, 'Longest Retry-After a server may ask for; a longer one fails the file [default: 5m]')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Proxy for every request, http:// or https:// (user:password@ for its credentials, never printed), loopback hosts included; '''' for none. Overrides http_proxy, https_proxy and all_proxy [default: from those variables, except for loopback hosts]')
            [CompletionResult]::new('--noproxy', '--noproxy', [CompletionResultType]::ParameterName, 'Hosts that bypass any proxy: comma-separated names (subdomains included), IP addresses or CIDR blocks, * for all; replaces no_proxy / NO_PROXY')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (repeatable; added to the system''s trust and SSL_CERT_FILE / SSL_CERT_DIR)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $DL_CONFIG, else $XDG_CONFIG_HOME/dl/config.toml, else ~/.config/dl/config.toml]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use the [profile.NAME] table of the config file over its top level [env: DL_PROFILE]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the JSON summary on stdout instead of the table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quiet success, loud failure: no progress, no table; one stderr line per failed file (--json still prints its document)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Quiet success, loud failure: no progress, no table; one stderr line per failed file (--json still prints its document)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works')
            [CompletionResult]::new('--compressed', '--compressed', [CompletionResultType]::ParameterName, 'Ask for gzip, br or zstd and store the decoded bytes (such files are not resumed or split); without it, bytes are stored exactly as served')
            [CompletionResult]::new('--content-disposition', '--content-disposition', [CompletionResultType]::ParameterName, 'Name a file the input does not name from the server''s Content-Disposition (RFC 6266, filename* first), sanitised like names from URLs and kept inside --dir')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Accept an input with no entries (exit 0 instead of 2)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Resolve and validate everything, print the plan, download nothing')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Accepted for wget habits: resume is always on, so this changes nothing')
            [CompletionResult]::new('--continue', '--continue', [CompletionResultType]::ParameterName, 'Accepted for wget habits: resume is always on, so this changes nothing')
            [CompletionResult]::new('--location-trusted', '--location-trusted', [CompletionResultType]::ParameterName, 'Send -H headers, manifest headers and URL credentials to other hosts a redirect leads to too (by default they go only to the scheme, host and port they were given for)')
            [CompletionResult]::new('--netrc', '--netrc', [CompletionResultType]::ParameterName, 'Send credentials from ~/.netrc ($NETRC if set) to the hosts it has an entry for, when the URL has none of its own and no -H Authorization is given; never after a redirect to another host')
            [CompletionResult]::new('--no-netrc', '--no-netrc', [CompletionResultType]::ParameterName, 'Read no netrc file, whatever the config file says')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)')
            [CompletionResult]::new('--no-check-certificate', '--no-check-certificate', [CompletionResultType]::ParameterName, 'Do not verify TLS certificates: any server can pose as any host (warned about on stderr; command line only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dl;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dl;help' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download every file named by the SOURCEs')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dl;help;fetch' {
            break
        }
        'dl;help;completions' {
            break
        }
        'dl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
