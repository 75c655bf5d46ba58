
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-smh' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-smh'
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
        'kubectl-smh' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the client version (and server versions, with a reachable mgmt context)')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell)')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Parse and validate manifests offline: SMH''s rules plus lint warnings')
            [CompletionResult]::new('translate', 'translate', [CompletionResultType]::ParameterValue, 'Print the Istio objects the manifests become, for every cluster, offline')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) into the mgmt cluster')
            [CompletionResult]::new('cluster', 'cluster', [CompletionResultType]::ParameterValue, 'Map SMH cluster names to kubeconfig contexts')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Validate, store, translate and apply manifests to every cluster, then write status')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'Create, list, delete and test FailoverServices')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Describe failover services, traffic policies or meshes across all clusters')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that everything is accepted, up to date and free of drift')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Run the guide''s failover drill: break the primary, verify failover, restore, verify failback')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Simulated clusters: `demo up` serves them, `demo guide` walks the whole guide on them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;version' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Print only the client version; read no kubeconfig and contact no cluster')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--topology', '--topology', [CompletionResultType]::ParameterName, 'Topology file describing the clusters, meshes and services that exist (see docs/translation.md, "Topology file"). Default: derived from the manifests')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat warnings as errors (exit 2 when there are any)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;translate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--topology', '--topology', [CompletionResultType]::ParameterName, 'Topology file describing the clusters, meshes and services that exist (see docs/translation.md, "Topology file"). Default: derived from the manifests')
            [CompletionResult]::new('--only-cluster', '--only-cluster', [CompletionResultType]::ParameterName, 'Print only the objects for this cluster (repeatable)')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'How FailoverServices are translated: `native` (Istio''s DestinationRule failoverPriority and a VirtualService route, no EnvoyFilter; Istio multi-primary only, an error where it cannot keep the FailoverService''s order exactly), `aggregate` (Service Mesh Hub''s ServiceEntry and EnvoyFilter aggregate cluster), or `auto`: native where it is exact, else aggregate. A FailoverService''s annotation failover.kubectl-smh.io/strategy pins its own')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Also print, on stderr, every choice that depends on the topology (each FailoverService''s strategy and why, multi-cluster mode, aggregate cluster config type, hosts)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;install' {
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, '`client`: say what would be done (only reads); `server`: send every write with dryRun=All; `none`: install')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the CRDs to be established')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;cluster' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Map an SMH cluster name to a kubeconfig context')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cluster names that resolve to a context, and how')
            [CompletionResult]::new('deregister', 'deregister', [CompletionResultType]::ParameterValue, 'Remove a cluster name from the registry')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;cluster;register' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context that serves this cluster')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Register the context even if it is not in the kubeconfig (yet)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;cluster;list' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;cluster;deregister' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;cluster;help' {
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Map an SMH cluster name to a kubeconfig context')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cluster names that resolve to a context, and how')
            [CompletionResult]::new('deregister', 'deregister', [CompletionResultType]::ParameterValue, 'Remove a cluster name from the registry')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;cluster;help;register' {
            break
        }
        'kubectl-smh;cluster;help;list' {
            break
        }
        'kubectl-smh;cluster;help;deregister' {
            break
        }
        'kubectl-smh;cluster;help;help' {
            break
        }
        'kubectl-smh;apply' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, '`client`: print what would be applied, per cluster, and the order of the writes (when it matters), and change nothing; `server`: send every request with dryRun=All, in the same order (the API servers validate, nothing is stored); `none`: apply')
            [CompletionResult]::new('--prune', '--prune', [CompletionResultType]::ParameterName, 'Delete generated objects that are no longer wanted (only objects carrying kubectl-smh''s labels)')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'Pin how the input''s FailoverServices are translated: `native` (Istio''s DestinationRule failoverPriority, no EnvoyFilter; an error where it is not exact), `aggregate` (the EnvoyFilter aggregate cluster) or `auto` (native where exact). A strategy other than auto is stored on each FailoverService as the annotation failover.kubectl-smh.io/strategy, so later applies and checks keep it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--diff', '--diff', [CompletionResultType]::ParameterName, 'Show, per cluster, a unified diff of the live objects against what would be applied (the server''s dry-run result when it answers), for every object that would be created, changed or pruned, then the order of the writes as comments (when it matters), and change nothing. Exit status 0: no differences, 1: differences')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;failover' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List FailoverServices in all namespaces')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a FailoverService and everything generated for it, in every cluster')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;failover;create' {
            [CompletionResult]::new('--backing', '--backing', [CompletionResultType]::ParameterName, 'A backing service, as SERVICE.NAMESPACE@CLUSTER; repeat in priority order, primary first (at least two)')
            [CompletionResult]::new('--hostname', '--hostname', [CompletionResultType]::ParameterName, 'Hostname clients use, ending in .global (default: NAME.NAMESPACE.global, with the primary''s namespace)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port the hostname listens on (default: the primary''s port)')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol of the port: http, https, grpc, http2, tcp, tls, mongo (default: from the primary''s port appProtocol or name, else http)')
            [CompletionResult]::new('--mesh', '--mesh', [CompletionResultType]::ParameterName, 'A mesh that should see the hostname, as NAME[.NAMESPACE] (repeatable; default: the mesh of the primary''s cluster, e.g. istiod-istio-system-mgmt-cluster)')
            [CompletionResult]::new('--consecutive-errors', '--consecutive-errors', [CompletionResultType]::ParameterName, 'Outlier detection: consecutive 5xx errors before a host is ejected (default 5)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Outlier detection: time between ejection sweeps (default 10s)')
            [CompletionResult]::new('--base-ejection-time', '--base-ejection-time', [CompletionResultType]::ParameterName, 'Outlier detection: minimum ejection time, multiplied by the times a host was ejected (default 30s)')
            [CompletionResult]::new('--max-ejection-percent', '--max-ejection-percent', [CompletionResultType]::ParameterName, 'Outlier detection: the most of a service''s hosts that may be ejected, in percent (default 100; below 100, Envoy may eject none of a small service''s hosts and failover never starts)')
            [CompletionResult]::new('--shift-from', '--shift-from', [CompletionResultType]::ParameterName, 'Shift the traffic addressed to this service to the FailoverService, as SERVICE.NAMESPACE@CLUSTER (repeatable; usually the primary, as the guide does; default: none, unless the wizard asks)')
            [CompletionResult]::new('--outlier-policy-name', '--outlier-policy-name', [CompletionResultType]::ParameterName, 'Name of the outlier-detection TrafficPolicy (default: NAME-outlier)')
            [CompletionResult]::new('--shift-policy-name', '--shift-policy-name', [CompletionResultType]::ParameterName, 'Name of the traffic-shift TrafficPolicies, one per namespace (default: NAME-shift)')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'How the FailoverService is translated: `native` (Istio''s DestinationRule failoverPriority and a VirtualService, no EnvoyFilter; Istio multi-primary, and an error where it cannot keep the order exactly), `aggregate` (the EnvoyFilter aggregate cluster) or `auto` (native where exact). Other than auto, it is stored as the FailoverService''s annotation failover.kubectl-smh.io/strategy')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--zero-loss', '--zero-loss', [CompletionResultType]::ParameterName, 'Zero-loss failover: outlier detection that ejects a host on its first error (and maxEjectionPercent 100) for the backing services that have none yet, and 20 retries on the traffic shift, so that requests reaching the primary while its pods are replaced are retried until Envoy fails over instead of failing (measured on Envoy 1.40 with istiod''s configuration: the guide''s failover lost 10 requests at 10/s, none with these). Trade-off: those requests take up to about 1 s longer; HTTP error answers (a 500 from the application) are still not retried')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Change nothing: print the manifests (with -o yaml|json, only them; otherwise as YAML followed by, per cluster, the Istio objects they would become, as comments)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;failover;list' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;failover;delete' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--with-policies', '--with-policies', [CompletionResultType]::ParameterName, 'Also delete the TrafficPolicies `failover create` made for it, unless another FailoverService still needs them')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be deleted and changed; change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;failover;test' {
            [CompletionResult]::new('--requests', '--requests', [CompletionResultType]::ParameterName, 'How many probe requests to send')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'The client workload to port-forward to, as [CLUSTER:][NAMESPACE/]DEPLOYMENT: a workload that calls the failover service (default: productpage-v1 in the primary''s cluster and namespace)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port of the client workload')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Path to GET')
            [CompletionResult]::new('--probe-timeout', '--probe-timeout', [CompletionResultType]::ParameterName, 'Timeout of one probe')
            [CompletionResult]::new('--expect-primary', '--expect-primary', [CompletionResultType]::ParameterName, 'Regex on the response body that marks an answer from the primary (default: bookinfo''s black stars, or reviews without stars)')
            [CompletionResult]::new('--expect-failover', '--expect-failover', [CompletionResultType]::ParameterName, 'Regex on the response body that marks a failed-over answer (default: bookinfo''s red stars)')
            [CompletionResult]::new('--expect-error', '--expect-error', [CompletionResultType]::ParameterName, 'Regex on the response body that marks an error page (default: bookinfo''s "Error fetching product reviews" and "Ratings service is currently unavailable")')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;failover;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List FailoverServices in all namespaces')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a FailoverService and everything generated for it, in every cluster')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;failover;help;create' {
            break
        }
        'kubectl-smh;failover;help;list' {
            break
        }
        'kubectl-smh;failover;help;delete' {
            break
        }
        'kubectl-smh;failover;help;test' {
            break
        }
        'kubectl-smh;failover;help;help' {
            break
        }
        'kubectl-smh;describe' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;check' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Warnings (lint, maxEjectionPercent below 100, ...) fail the check too')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;drill' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The FailoverService to drill, as a flag (for one named like a subcommand)')
            [CompletionResult]::new('--break', '--break', [CompletionResultType]::ParameterName, 'A deployment to break instead of those the primary Service selects, as [CLUSTER:][NAMESPACE/]DEPLOYMENT; cluster and namespace default to the primary''s (repeatable)')
            [CompletionResult]::new('--break-mode', '--break-mode', [CompletionResultType]::ParameterName, 'How to break the deployments: `command`, the guide''s patch (the serving containers run `sleep 20h`; the default), or `scale` (spec.replicas 0, the exact count put back). Choosing `command` explicitly runs it even when a readiness probe would keep the new pods from becoming Ready (preflight then warns instead of refusing)')
            [CompletionResult]::new('--break-ready-timeout', '--break-ready-timeout', [CompletionResultType]::ParameterName, 'With the command patch: stop and restore when a new pod''s broken containers run this long without becoming Ready (default: from their readiness and startup probes, initialDelaySeconds + periodSeconds × failureThreshold, plus 5s)')
            [CompletionResult]::new('--probe-workload', '--probe-workload', [CompletionResultType]::ParameterName, 'The client workload to port-forward to and probe, as [CLUSTER:][NAMESPACE/]DEPLOYMENT: a workload that calls the failover service (default: productpage-v1 in the primary''s cluster and namespace)')
            [CompletionResult]::new('--probe-port', '--probe-port', [CompletionResultType]::ParameterName, 'Port of the probe workload (default: 9080 for productpage, else its first declared container port)')
            [CompletionResult]::new('--probe-path', '--probe-path', [CompletionResultType]::ParameterName, 'Path to GET (default: /productpage for productpage, else /)')
            [CompletionResult]::new('--probe-rate', '--probe-rate', [CompletionResultType]::ParameterName, 'Probes per second (default: 10)')
            [CompletionResult]::new('--probe-timeout', '--probe-timeout', [CompletionResultType]::ParameterName, 'Timeout of one probe (default: 5s)')
            [CompletionResult]::new('--expect-primary', '--expect-primary', [CompletionResultType]::ParameterName, 'Regex on the response body that marks an answer from the primary (default: bookinfo''s black stars, or reviews without stars)')
            [CompletionResult]::new('--expect-failover', '--expect-failover', [CompletionResultType]::ParameterName, 'Regex on the response body that marks a failed-over answer (default: bookinfo''s red stars)')
            [CompletionResult]::new('--expect-error', '--expect-error', [CompletionResultType]::ParameterName, 'Regex on the response body that marks an error page (default: bookinfo''s "Error fetching product reviews" and "Ratings service is currently unavailable"). Transport errors and statuses outside 200-299 are always errors')
            [CompletionResult]::new('--failover-timeout', '--failover-timeout', [CompletionResultType]::ParameterName, 'Fail unless failover is steady this long after the break (default: 2m)')
            [CompletionResult]::new('--failback-timeout', '--failback-timeout', [CompletionResultType]::ParameterName, 'Fail unless failback is steady this long after the restore (default: 2m plus the primary''s baseEjectionTime)')
            [CompletionResult]::new('--max-errors', '--max-errors', [CompletionResultType]::ParameterName, 'Fail (and restore at once) when more requests than this fail between the break and steady failover (default: no limit)')
            [CompletionResult]::new('--steady-window', '--steady-window', [CompletionResultType]::ParameterName, 'Answers per steadiness window: failover (failback) is steady from the first window with at least 99% failed-over (primary) answers (default: 20, i.e. 2s at 10/s)')
            [CompletionResult]::new('--baseline-probes', '--baseline-probes', [CompletionResultType]::ParameterName, 'Baseline answers preflight needs, at least 95% of them from the primary (default: 20)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and the patches; change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;drill;restore' {
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Restore only what the drill with this id saved (default: every pending restore plan of NAME; `kubectl smh drill` prints its id)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the restore patches; change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;drill;help' {
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;drill;help;restore' {
            break
        }
        'kubectl-smh;drill;help;help' {
            break
        }
        'kubectl-smh;demo' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C')
            [CompletionResult]::new('guide', 'guide', [CompletionResultType]::ParameterValue, 'Walk Service Mesh Hub''s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the guide''s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;demo;up' {
            [CompletionResult]::new('--kubeconfig-out', '--kubeconfig-out', [CompletionResultType]::ParameterName, 'Where to write the kubeconfig (contexts mgmt-cluster and remote-cluster, current: mgmt-cluster). It appears once every Deployment in both clusters is available, and is removed on exit')
            [CompletionResult]::new('--ready-timeout', '--ready-timeout', [CompletionResultType]::ParameterName, 'How long to wait for every Deployment to become available before giving up (exit 3, no kubeconfig written). Default: 60s plus --rollout-delay')
            [CompletionResult]::new('--rollout-delay', '--rollout-delay', [CompletionResultType]::ParameterName, 'How long a new pod takes to become ready in the simulated clusters (e.g. 500ms, 2s)')
            [CompletionResult]::new('--latency', '--latency', [CompletionResultType]::ParameterName, 'Delay every API request of a cluster, as CLUSTER=DURATION, e.g. remote-cluster=50ms (repeatable)')
            [CompletionResult]::new('--error-rate', '--error-rate', [CompletionResultType]::ParameterName, 'Fail a share of a cluster''s API requests, as CLUSTER=RATE[:KIND], e.g. remote-cluster=0.2:500 or remote-cluster=10%:429. KIND is 500 (InternalError, the default), 429 (TooManyRequests with Retry-After: 1), 503 (ServiceUnavailable with Retry-After: 1), timeout (never answered) or close (carried out, then the connection closes in the middle of the answer; for a watch, in the middle of its first event). Repeatable; the rates of different kinds add up')
            [CompletionResult]::new('--unreachable', '--unreachable', [CompletionResultType]::ParameterName, 'Make a cluster''s API server stop answering, as CLUSTER or CLUSTER=MODE. MODE hang (the default) accepts connections and never answers; close closes them at once (repeatable)')
            [CompletionResult]::new('--unavailable', '--unavailable', [CompletionResultType]::ParameterName, 'Answer every API request of a cluster 503 with Retry-After: 1 for a while after it starts, as a control plane under rollout does, as CLUSTER=DURATION, e.g. mgmt-cluster=20s (repeatable)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the clusters'' meshes reach each other: global (SMH''s federated `name.ns.svc.<cluster>.global` names) or multi-primary (one `cluster.local` name with endpoints from both clusters). Default: global, or multi-primary with --ambient')
            [CompletionResult]::new('--istio-version', '--istio-version', [CompletionResultType]::ParameterName, 'Istio version on istiod''s and the proxies'' images (e.g. 1.8.6 or 1.24.2). Default: 1.24.2, or 1.28.1 with --ambient (Istio''s ambient mode spans clusters from 1.27)')
            [CompletionResult]::new('--istio-cluster-id', '--istio-cluster-id', [CompletionResultType]::ParameterName, 'Istio''s cluster ID of a cluster, as CLUSTER=ID, e.g. mgmt-cluster=east (repeatable): istiod''s CLUSTER_ID (what values.global.multiCluster.clusterName sets), the label topology.istio.io/cluster on its endpoints, and the key of the other cluster''s remote secret for it. Default: mgmt-cluster=cluster1, remote-cluster=cluster2 (IDs that differ from the SMH cluster names, as on most real installs)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('--ambient', '--ambient', [CompletionResultType]::ParameterName, 'Install Istio in ambient mode instead of with sidecars, in both clusters: ztunnel and istio-cni (DaemonSets in istio-system), istiod with PILOT_ENABLE_AMBIENT as Istio''s ambient profile sets it, the Gateway API CRDs, and bookinfo without sidecars (its namespace labelled istio.io/dataplane-mode=ambient) using the waypoint bookinfo/waypoint (label istio.io/use-waypoint on the namespace; the waypoint accepts Services and ServiceEntries from every namespace). Across the two clusters it is Istio''s ambient multicluster install (Istio 1.27 or later): each cluster on its own network (network1, network2), istiod with AMBIENT_ENABLE_MULTI_NETWORK=true and the ambient profile''s serviceScopeConfigs (Services labelled istio.io/global=true are global; every bookinfo Service is), and an east-west gateway istio-system/istio-eastwestgateway in each cluster. The meshes are multi-primary: `--mode global` is refused, as SMH''s `.global` federation sends traffic through the ingress gateways'' mTLS passthrough port, a sidecar-era path that ambient traffic (HBONE through ztunnel and waypoints) does not take, and that kubectl-smh cannot translate for ambient (the aggregate strategy has no effect on waypoints)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;demo;guide' {
            [CompletionResult]::new('--rollout-delay', '--rollout-delay', [CompletionResultType]::ParameterName, 'How long a new pod takes to become ready in the simulated clusters; the drill''s two rollouts take about this long each')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the simulated meshes reach each other: global (SMH''s federated `name.ns.svc.<cluster>.global` names, as in the guide) or multi-primary')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;demo;manifests' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--mgmt-context', '--mgmt-context', [CompletionResultType]::ParameterName, 'Kubeconfig context of the management cluster (default: the current context)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the SMH objects')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (default: table on a terminal; each command documents its own default)')
            [CompletionResult]::new('--istio-mode', '--istio-mode', [CompletionResultType]::ParameterName, 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH''s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl''s `0` = no limit is not supported: give a long one, e.g. 1h)')
            [CompletionResult]::new('--retry-timeout', '--retry-timeout', [CompletionResultType]::ParameterName, 'The total time the command may spend retrying requests that failed with a transient error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped connection), over all its requests and clusters; 0 turns retries off. A command takes at most its own time plus this plus one --request-timeout per request being retried when it runs out (the drill''s restore gets a budget of its own). Only requests that are safe to repeat are retried: reads, server-side apply, writes guarded by a resourceVersion or delete preconditions, and creates whose repeat is recognised by its 409. A cluster that has not answered yet in this command is not waited for: a refused or closed connection fails at once, a timeout is tried 3 more times')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; answer yes to confirmations')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colour and symbols: coloured diagnostics, check''s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide); with every command that talks to clusters, print each retried request (verb, resource, cluster, what the attempt got, the wait) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-smh;demo;help' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C')
            [CompletionResult]::new('guide', 'guide', [CompletionResultType]::ParameterValue, 'Walk Service Mesh Hub''s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the guide''s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;demo;help;up' {
            break
        }
        'kubectl-smh;demo;help;guide' {
            break
        }
        'kubectl-smh;demo;help;manifests' {
            break
        }
        'kubectl-smh;demo;help;help' {
            break
        }
        'kubectl-smh;help' {
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the client version (and server versions, with a reachable mgmt context)')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell)')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Parse and validate manifests offline: SMH''s rules plus lint warnings')
            [CompletionResult]::new('translate', 'translate', [CompletionResultType]::ParameterValue, 'Print the Istio objects the manifests become, for every cluster, offline')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) into the mgmt cluster')
            [CompletionResult]::new('cluster', 'cluster', [CompletionResultType]::ParameterValue, 'Map SMH cluster names to kubeconfig contexts')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Validate, store, translate and apply manifests to every cluster, then write status')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'Create, list, delete and test FailoverServices')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Describe failover services, traffic policies or meshes across all clusters')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that everything is accepted, up to date and free of drift')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Run the guide''s failover drill: break the primary, verify failover, restore, verify failback')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Simulated clusters: `demo up` serves them, `demo guide` walks the whole guide on them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-smh;help;version' {
            break
        }
        'kubectl-smh;help;completion' {
            break
        }
        'kubectl-smh;help;validate' {
            break
        }
        'kubectl-smh;help;translate' {
            break
        }
        'kubectl-smh;help;install' {
            break
        }
        'kubectl-smh;help;cluster' {
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Map an SMH cluster name to a kubeconfig context')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cluster names that resolve to a context, and how')
            [CompletionResult]::new('deregister', 'deregister', [CompletionResultType]::ParameterValue, 'Remove a cluster name from the registry')
            break
        }
        'kubectl-smh;help;cluster;register' {
            break
        }
        'kubectl-smh;help;cluster;list' {
            break
        }
        'kubectl-smh;help;cluster;deregister' {
            break
        }
        'kubectl-smh;help;apply' {
            break
        }
        'kubectl-smh;help;failover' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List FailoverServices in all namespaces')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a FailoverService and everything generated for it, in every cluster')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers')
            break
        }
        'kubectl-smh;help;failover;create' {
            break
        }
        'kubectl-smh;help;failover;list' {
            break
        }
        'kubectl-smh;help;failover;delete' {
            break
        }
        'kubectl-smh;help;failover;test' {
            break
        }
        'kubectl-smh;help;describe' {
            break
        }
        'kubectl-smh;help;check' {
            break
        }
        'kubectl-smh;help;drill' {
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending')
            break
        }
        'kubectl-smh;help;drill;restore' {
            break
        }
        'kubectl-smh;help;demo' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C')
            [CompletionResult]::new('guide', 'guide', [CompletionResultType]::ParameterValue, 'Walk Service Mesh Hub''s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the guide''s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`')
            break
        }
        'kubectl-smh;help;demo;up' {
            break
        }
        'kubectl-smh;help;demo;guide' {
            break
        }
        'kubectl-smh;help;demo;manifests' {
            break
        }
        'kubectl-smh;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
