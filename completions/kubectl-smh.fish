# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_smh_global_optspecs
    string join \n kubeconfig= mgmt-context= cluster= n/namespace= o/output= istio-mode= request-timeout= y/yes no-color v/verbose h/help V/version
end

function __fish_kubectl_smh_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_smh_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_smh_using_subcommand
    set -l cmd (__fish_kubectl_smh_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "version" -d 'Print the client version (and server versions, with a reachable mgmt context)'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "validate" -d 'Parse and validate manifests offline: SMH\'s rules plus lint warnings'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "translate" -d 'Print the Istio objects the manifests become, for every cluster, offline'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "install" -d 'Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) into the mgmt cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "cluster" -d 'Map SMH cluster names to kubeconfig contexts'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "apply" -d 'Validate, store, translate and apply manifests to every cluster, then write status'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "failover" -d 'Create, list, delete and test FailoverServices'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "describe" -d 'Describe failover services, traffic policies or meshes across all clusters'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "check" -d 'Check that everything is accepted, up to date and free of drift'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "drill" -d 'Run the guide\'s failover drill: break the primary, verify failover, restore, verify failback'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "demo" -d 'Simulated clusters: `demo up` serves them, `demo guide` walks the whole guide on them'
complete -c kubectl-smh -n "__fish_kubectl_smh_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l client -d 'Print only the client version; read no kubeconfig and contact no cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand version" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s f -l filename -d 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l topology -d 'Topology file describing the clusters, meshes and services that exist (see docs/translation.md, "Topology file"). Default: derived from the manifests' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l strict -d 'Treat warnings as errors (exit 2 when there are any)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand validate" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s f -l filename -d 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l topology -d 'Topology file describing the clusters, meshes and services that exist (see docs/translation.md, "Topology file"). Default: derived from the manifests' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l only-cluster -d 'Print only the objects for this cluster (repeatable)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l explain -d 'Also print, on stderr, every choice that depends on the topology (multi-cluster mode, aggregate cluster config type, hosts)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand translate" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l dry-run -d '`client`: say what would be done (only reads); `server`: send every write with dryRun=All; `none`: install' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l timeout -d 'How long to wait for the CRDs to be established' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand install" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -f -a "register" -d 'Map an SMH cluster name to a kubeconfig context'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -f -a "list" -d 'List the cluster names that resolve to a context, and how'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -f -a "deregister" -d 'Remove a cluster name from the registry'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and not __fish_seen_subcommand_from register list deregister help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l context -d 'The kubeconfig context that serves this cluster' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l force -d 'Register the context even if it is not in the kubeconfig (yet)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from register" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from deregister" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "register" -d 'Map an SMH cluster name to a kubeconfig context'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the cluster names that resolve to a context, and how'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "deregister" -d 'Remove a cluster name from the registry'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s f -l filename -d 'Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin. Repeatable, and comma-separated like kubectl' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l dry-run -d '`client`: print what would be applied, per cluster, and change nothing; `server`: send every request with dryRun=All (the API servers validate, nothing is stored); `none`: apply' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l prune -d 'Delete generated objects that are no longer wanted (only objects carrying kubectl-smh\'s labels)' -r -f -a "true\t''
false\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l diff -d 'Show, per cluster, a unified diff of the live objects against what would be applied (the server\'s dry-run result when it answers), for every object that would be created, changed or pruned, and change nothing. Exit status 0: no differences, 1: differences'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand apply" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -f -a "create" -d 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -f -a "list" -d 'List FailoverServices in all namespaces'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -f -a "delete" -d 'Delete a FailoverService and everything generated for it, in every cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -f -a "test" -d 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and not __fish_seen_subcommand_from create list delete test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l backing -d 'A backing service, as SERVICE.NAMESPACE@CLUSTER; repeat in priority order, primary first (at least two)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l hostname -d 'Hostname clients use, ending in .global (default: NAME.NAMESPACE.global, with the primary\'s namespace)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l port -d 'Port the hostname listens on (default: the primary\'s port)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l protocol -d 'Protocol of the port: http, https, grpc, http2, tcp, tls, mongo (default: from the primary\'s port appProtocol or name, else http)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l mesh -d 'A mesh that should see the hostname, as NAME[.NAMESPACE] (repeatable; default: the mesh of the primary\'s cluster, e.g. istiod-istio-system-mgmt-cluster)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l consecutive-errors -d 'Outlier detection: consecutive 5xx errors before a host is ejected (default 5)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l interval -d 'Outlier detection: time between ejection sweeps (default 10s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l base-ejection-time -d 'Outlier detection: minimum ejection time, multiplied by the times a host was ejected (default 30s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l max-ejection-percent -d 'Outlier detection: the most of a service\'s hosts that may be ejected, in percent (default 100; below 100, Envoy may eject none of a small service\'s hosts and failover never starts)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l shift-from -d 'Shift the traffic addressed to this service to the FailoverService, as SERVICE.NAMESPACE@CLUSTER (repeatable; usually the primary, as the guide does; default: none, unless the wizard asks)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l outlier-policy-name -d 'Name of the outlier-detection TrafficPolicy (default: NAME-outlier)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l shift-policy-name -d 'Name of the traffic-shift TrafficPolicies, one per namespace (default: NAME-shift)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l zero-loss -d 'Zero-loss failover: outlier detection that ejects a host on its first error (and maxEjectionPercent 100) for the backing services that have none yet, and 20 retries on the traffic shift, so that requests reaching the primary while its pods are replaced are retried until Envoy fails over instead of failing (measured on Envoy 1.40 with istiod\'s configuration: the guide\'s failover lost 10 requests at 10/s, none with these). Trade-off: those requests take up to about 1 s longer; HTTP error answers (a 500 from the application) are still not retried'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l dry-run -d 'Change nothing: print the manifests (with -o yaml|json, only them; otherwise as YAML followed by, per cluster, the Istio objects they would become, as comments)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l with-policies -d 'Also delete the TrafficPolicies `failover create` made for it, unless another FailoverService still needs them'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l dry-run -d 'Print what would be deleted and changed; change nothing'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l requests -d 'How many probe requests to send' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l client -d 'The client workload to port-forward to, as [CLUSTER:][NAMESPACE/]DEPLOYMENT: a workload that calls the failover service (default: productpage-v1 in the primary\'s cluster and namespace)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l port -d 'Port of the client workload' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l path -d 'Path to GET' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l probe-timeout -d 'Timeout of one probe' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l expect-primary -d 'Regex on the response body that marks an answer from the primary (default: bookinfo\'s black stars, or reviews without stars)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l expect-failover -d 'Regex on the response body that marks a failed-over answer (default: bookinfo\'s red stars)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l expect-error -d 'Regex on the response body that marks an error page (default: bookinfo\'s "Error fetching product reviews" and "Ratings service is currently unavailable")' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from help" -f -a "list" -d 'List FailoverServices in all namespaces'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a FailoverService and everything generated for it, in every cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from help" -f -a "test" -d 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand failover; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand describe" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l strict -d 'Warnings (lint, maxEjectionPercent below 100, ...) fail the check too'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand check" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l name -d 'The FailoverService to drill, as a flag (for one named like a subcommand)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l break -d 'A deployment to break instead of those the primary Service selects, as [CLUSTER:][NAMESPACE/]DEPLOYMENT; cluster and namespace default to the primary\'s (repeatable)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l break-mode -d 'How to break the deployments: `command`, the guide\'s patch (the serving containers run `sleep 20h`; the default), or `scale` (spec.replicas 0, the exact count put back). Choosing `command` explicitly runs it even when a readiness probe would keep the new pods from becoming Ready (preflight then warns instead of refusing)' -r -f -a "command\t'The guide\'s patch: the serving containers run `sleep 20h`'
scale\t'spec.replicas 0; the restore puts back the exact replica count'"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l break-ready-timeout -d 'With the command patch: stop and restore when a new pod\'s broken containers run this long without becoming Ready (default: from their readiness and startup probes, initialDelaySeconds + periodSeconds × failureThreshold, plus 5s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l probe-workload -d 'The client workload to port-forward to and probe, as [CLUSTER:][NAMESPACE/]DEPLOYMENT: a workload that calls the failover service (default: productpage-v1 in the primary\'s cluster and namespace)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l probe-port -d 'Port of the probe workload (default: 9080 for productpage, else its first declared container port)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l probe-path -d 'Path to GET (default: /productpage for productpage, else /)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l probe-rate -d 'Probes per second (default: 10)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l probe-timeout -d 'Timeout of one probe (default: 5s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l expect-primary -d 'Regex on the response body that marks an answer from the primary (default: bookinfo\'s black stars, or reviews without stars)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l expect-failover -d 'Regex on the response body that marks a failed-over answer (default: bookinfo\'s red stars)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l expect-error -d 'Regex on the response body that marks an error page (default: bookinfo\'s "Error fetching product reviews" and "Ratings service is currently unavailable"). Transport errors and statuses outside 200-299 are always errors' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l failover-timeout -d 'Fail unless failover is steady this long after the break (default: 2m)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l failback-timeout -d 'Fail unless failback is steady this long after the restore (default: 2m plus the primary\'s baseEjectionTime)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l max-errors -d 'Fail (and restore at once) when more requests than this fail between the break and steady failover (default: no limit)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l steady-window -d 'Answers per steadiness window: failover (failback) is steady from the first window with at least 99% failed-over (primary) answers (default: 20, i.e. 2s at 10/s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l baseline-probes -d 'Baseline answers preflight needs, at least 95% of them from the primary (default: 20)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l dry-run -d 'Print the plan and the patches; change nothing'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -a "restore" -d 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and not __fish_seen_subcommand_from restore help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l id -d 'Restore only what the drill with this id saved (default: every pending restore plan of NAME; `kubectl smh drill` prints its id)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l dry-run -d 'Print the restore patches; change nothing'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand drill; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -f -a "up" -d 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -f -a "guide" -d 'Walk Service Mesh Hub\'s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -f -a "manifests" -d 'Print the guide\'s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and not __fish_seen_subcommand_from up guide manifests help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l kubeconfig-out -d 'Where to write the kubeconfig (contexts mgmt-cluster and remote-cluster, current: mgmt-cluster). It appears once every Deployment in both clusters is available, and is removed on exit' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l ready-timeout -d 'How long to wait for every Deployment to become available before giving up (exit 3, no kubeconfig written). Default: 60s plus --rollout-delay' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l rollout-delay -d 'How long a new pod takes to become ready in the simulated clusters (e.g. 500ms, 2s)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l latency -d 'Delay every API request of a cluster, as CLUSTER=DURATION, e.g. remote-cluster=50ms (repeatable)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l error-rate -d 'Fail a share of a cluster\'s API requests, as CLUSTER=RATE[:KIND], e.g. remote-cluster=0.2:500 or remote-cluster=10%:429. KIND is 500 (InternalError, the default), 429 (TooManyRequests with Retry-After: 1) or timeout (never answered). Repeatable; the rates of different kinds add up' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l unreachable -d 'Make a cluster\'s API server stop answering, as CLUSTER or CLUSTER=MODE. MODE hang (the default) accepts connections and never answers; close closes them at once (repeatable)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l mode -d 'How the clusters\' meshes reach each other: global (SMH\'s federated `name.ns.svc.<cluster>.global` names) or multi-primary (one `cluster.local` name with endpoints from both clusters)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l istio-version -d 'Istio version on istiod\'s and the sidecars\' images (e.g. 1.8.6 or 1.24.2)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l istio-cluster-id -d 'Istio\'s cluster ID of a cluster, as CLUSTER=ID, e.g. mgmt-cluster=east (repeatable): istiod\'s CLUSTER_ID (what values.global.multiCluster.clusterName sets), the label topology.istio.io/cluster on its endpoints, and the key of the other cluster\'s remote secret for it. Default: mgmt-cluster=cluster1, remote-cluster=cluster2 (IDs that differ from the SMH cluster names, as on most real installs)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from up" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l rollout-delay -d 'How long a new pod takes to become ready in the simulated clusters; the drill\'s two rollouts take about this long each' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l mode -d 'How the simulated meshes reach each other: global (SMH\'s federated `name.ns.svc.<cluster>.global` names, as in the guide) or multi-primary' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from guide" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l mgmt-context -d 'Kubeconfig context of the management cluster (default: the current context)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l cluster -d 'Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX (repeatable; default: the registry, then a context with the same name)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s n -l namespace -d 'Namespace of the SMH objects' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s o -l output -d 'Output format (default: table on a terminal; each command documents its own default)' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l istio-mode -d 'Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead of what the topology says): `global` (SMH\'s `<svc>.<ns>.svc.<cluster>.global` names, istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters with remote secrets)' -r -f -a "global\t''
multi-primary\t''"
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l request-timeout -d 'How long to wait for a single API request before giving up (e.g. 10s, 1m); must be more than 0 (kubectl\'s `0` = no limit is not supported: give a long one, e.g. 1h)' -r
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s y -l yes -d 'Never prompt; answer yes to confirmations'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -l no-color -d 'Disable colour and symbols: coloured diagnostics, check\'s marks (also when NO_COLOR is set to anything but the empty string, as no-color.org says)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s v -l verbose -d 'Also list the objects that are unchanged (apply, failover create, failover delete, demo guide)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s h -l help -d 'Print help'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from manifests" -s V -l version -d 'Print version'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "up" -d 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "guide" -d 'Walk Service Mesh Hub\'s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "manifests" -d 'Print the guide\'s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "version" -d 'Print the client version (and server versions, with a reachable mgmt context)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "validate" -d 'Parse and validate manifests offline: SMH\'s rules plus lint warnings'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "translate" -d 'Print the Istio objects the manifests become, for every cluster, offline'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "install" -d 'Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) into the mgmt cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "cluster" -d 'Map SMH cluster names to kubeconfig contexts'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "apply" -d 'Validate, store, translate and apply manifests to every cluster, then write status'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "failover" -d 'Create, list, delete and test FailoverServices'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "describe" -d 'Describe failover services, traffic policies or meshes across all clusters'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "check" -d 'Check that everything is accepted, up to date and free of drift'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "drill" -d 'Run the guide\'s failover drill: break the primary, verify failover, restore, verify failback'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "demo" -d 'Simulated clusters: `demo up` serves them, `demo guide` walks the whole guide on them'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and not __fish_seen_subcommand_from version completion validate translate install cluster apply failover describe check drill demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "register" -d 'Map an SMH cluster name to a kubeconfig context'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "list" -d 'List the cluster names that resolve to a context, and how'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "deregister" -d 'Remove a cluster name from the registry'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from failover" -f -a "create" -d 'Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or flags)'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from failover" -f -a "list" -d 'List FailoverServices in all namespaces'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from failover" -f -a "delete" -d 'Delete a FailoverService and everything generated for it, in every cluster'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from failover" -f -a "test" -d 'Non-destructive test: preflight checks plus probe traffic; reports which backing service answers'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from drill" -f -a "restore" -d 'Put back what an interrupted drill changed (after a crash or SIGKILL): every deployment carrying a restore plan of this FailoverService gets its saved container command and args back. Does nothing when no restore is pending'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from demo" -f -a "up" -d 'Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from demo" -f -a "guide" -d 'Walk Service Mesh Hub\'s failover guide on in-process simulated clusters: apply its three manifests, show the statuses, reload productpage, run the failover drill'
complete -c kubectl-smh -n "__fish_kubectl_smh_using_subcommand help; and __fish_seen_subcommand_from demo" -f -a "manifests" -d 'Print the guide\'s three manifests (outlier detection, FailoverService, traffic shift) as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`'
