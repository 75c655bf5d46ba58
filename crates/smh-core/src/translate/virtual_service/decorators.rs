//! The decorators: each TrafficPolicy field that sets a part of an HTTP route (traffic
//! shift, retries, timeout, fault injection, mirror, header manipulation, CORS), with
//! SMH's messages when a value cannot be translated or conflicts with another policy's.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn decorate(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    p: &Policy,
    t: &TargetId,
    source: &str,
    route: &mut HttpRoute,
    fields: &mut FieldOwners,
    uses: &mut Vec<Use>,
) {
    let spec = &p.tp.spec;
    let set = |report: &mut TranslationNotes,
               decorator: &str,
               field: &str,
               result: Result<(), String>| {
        if let Err(e) = result {
            report.policy_error(p, t, field, format!("{decorator}: {e}"));
        }
    };

    if let Some(shift) = &spec.traffic_shift {
        let r = traffic_shift(ctx, report, p, source, &shift.destinations).and_then(
            |(dests, new_uses)| {
                if fields.register("route", &route.route, &dests, &p.id)? {
                    route.route = dests;
                    uses.extend(new_uses);
                }
                Ok(())
            },
        );
        set(report, "traffic-shift", "spec.trafficShift", r);
    }
    if let Some(retries) = &spec.retries {
        let r = (|| {
            let per_try_timeout = match &retries.per_try_timeout {
                Some(d) => proto_duration(d).map_err(|e| format!("perTryTimeout: {e}"))?,
                None => None,
            };
            let new = Some(HttpRetry {
                attempts: retries.attempts,
                per_try_timeout,
                retry_on: None,
            });
            if fields.register("retries", &route.retries, &new, &p.id)? {
                route.retries = new;
            }
            Ok(())
        })();
        set(report, "retries", "spec.retries", r);
    }
    if let Some(timeout) = &spec.request_timeout {
        let r = (|| {
            let new = proto_duration(timeout)?;
            if fields.register("timeout", &route.timeout, &new, &p.id)? {
                route.timeout = new;
            }
            Ok(())
        })();
        set(report, "timeout", "spec.requestTimeout", r);
    }
    if let Some(fault) = &spec.fault_injection {
        let r = (|| {
            let new = Some(fault_injection(fault)?);
            if fields.register("fault", &route.fault, &new, &p.id)? {
                route.fault = new;
            }
            Ok(())
        })();
        set(report, "fault-injection", "spec.faultInjection", r);
    }
    if let Some(mirror) = &spec.mirror {
        let r = (|| {
            let (new, x) = mirror_destination(ctx, source, mirror)?;
            let new = Some(new);
            if fields.register("mirror", &route.mirror, &new, &p.id)? {
                route.mirror = new;
                route.mirror_percentage = Some(Percent {
                    value: mirror.percentage,
                });
                uses.push(Use {
                    consumer: source.to_string(),
                    target: x,
                    subset: Labels::new(),
                    owner: p.id.clone(),
                });
            }
            Ok(())
        })();
        set(report, "mirror", "spec.mirror", r);
    }
    if let Some(h) = &spec.header_manipulation {
        let new = Some(headers(h));
        let r = fields
            .register("headers", &route.headers, &new, &p.id)
            .map(|changed| {
                if changed {
                    route.headers = new;
                }
            });
        set(report, "header-manipulation", "spec.headerManipulation", r);
    }
    if let Some(cors) = &spec.cors_policy {
        let r = (|| {
            let new = Some(cors_policy(cors)?);
            if fields.register("corsPolicy", &route.cors_policy, &new, &p.id)? {
                route.cors_policy = new;
            }
            Ok(())
        })();
        set(report, "cors", "spec.corsPolicy", r);
    }
}

/// Istio's fault injection for SMH's `faultInjection`: exactly one of a fixed delay, an
/// exponential delay or an abort, with the percentage.
fn fault_injection(
    fault: &crate::model::types::FaultInjection,
) -> Result<HttpFaultInjection, String> {
    let percentage = Some(Percent {
        value: fault.percentage,
    });
    let kinds = [
        fault.fixed_delay.is_some(),
        fault.exponential_delay.is_some(),
        fault.abort.is_some(),
    ];
    let new = match kinds {
        [false, false, false] => {
            return Err("FaultInjection type must be specified.".to_string());
        }
        [true, false, false] => HttpFaultInjection {
            delay: Some(FaultDelay {
                fixed_delay: fault
                    .fixed_delay
                    .as_deref()
                    .map(proto_duration)
                    .transpose()
                    .map_err(|e| format!("fixedDelay: {e}"))?
                    .flatten(),
                exponential_delay: None,
                percentage,
            }),
            abort: None,
        },
        [false, true, false] => HttpFaultInjection {
            delay: Some(FaultDelay {
                fixed_delay: None,
                exponential_delay: fault
                    .exponential_delay
                    .as_deref()
                    .map(proto_duration)
                    .transpose()
                    .map_err(|e| format!("exponentialDelay: {e}"))?
                    .flatten(),
                percentage,
            }),
            abort: None,
        },
        [false, false, true] => HttpFaultInjection {
            delay: None,
            abort: Some(FaultAbort {
                http_status: fault.abort.as_ref().map(|a| a.http_status),
                percentage,
            }),
        },
        _ => {
            return Err(
                "only one of fixedDelay, exponentialDelay and abort may be set".to_string(),
            );
        }
    };
    Ok(new)
}

/// The destination of SMH's `mirror` as seen from `source` (host, subset, port), and the
/// traffic target it names.
fn mirror_destination(
    ctx: &Ctx,
    source: &str,
    mirror: &crate::model::types::Mirror,
) -> Result<(Destination, TargetId), String> {
    let kube = mirror
        .kube_service
        .as_ref()
        .ok_or("must set a destination type on mirror")?;
    let x = TargetId::new(&kube.name, &kube.namespace, &kube.cluster_name);
    let ports = match ctx.targets.get(&x) {
        Some(s) => s.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
        None => {
            return Err(format!(
                "invalid mirror destination: traffic target {} not found",
                x.key()
            ));
        }
    };
    let port = check_port(mirror.port, &ports, "mirror", &x)?;
    let (host, subset) = destination_for(ctx, source, &x, &Labels::new());
    Ok((Destination { host, subset, port }, x))
}

/// Istio's header operations for SMH's `headerManipulation` (empty sides left out).
fn headers(h: &crate::model::types::HeaderManipulation) -> Headers {
    let request = HeaderOperations {
        add: h.append_request_headers.clone(),
        remove: h.remove_request_headers.clone(),
        ..Default::default()
    };
    let response = HeaderOperations {
        add: h.append_response_headers.clone(),
        remove: h.remove_response_headers.clone(),
        ..Default::default()
    };
    Headers {
        request: (!request.is_empty()).then_some(request),
        response: (!response.is_empty()).then_some(response),
    }
}

/// Istio's CORS policy for SMH's `corsPolicy`.
fn cors_policy(cors: &crate::model::types::CorsPolicy) -> Result<CorsPolicy, String> {
    let max_age = match &cors.max_age {
        Some(d) => proto_duration(d).map_err(|e| format!("maxAge: {e}"))?,
        None => None,
    };
    Ok(CorsPolicy {
        allow_origins: cors
            .allow_origins
            .iter()
            .map(|o| StringMatch {
                exact: o.exact.clone(),
                prefix: o.prefix.clone(),
                regex: o.regex.clone(),
            })
            .collect(),
        allow_methods: cors.allow_methods.clone(),
        allow_headers: cors.allow_headers.clone(),
        expose_headers: cors.expose_headers.clone(),
        max_age,
        allow_credentials: cors.allow_credentials,
    })
}

/// `port` if the destination has it; 0 is allowed only for a single-port destination.
fn check_port(
    port: u32,
    ports: &[u32],
    what: &str,
    x: &TargetId,
) -> Result<Option<PortSelector>, String> {
    if port != 0 {
        if !ports.contains(&port) {
            return Err(format!(
                "specified port {port} does not exist for {what} destination service {}",
                x.key()
            ));
        }
        Ok(Some(PortSelector { number: port }))
    } else if ports.len() > 1 {
        Err(format!(
            "must provide port for {what} destination service {} with multiple ports ({}) defined",
            x.key(),
            ports.len()
        ))
    } else {
        Ok(None)
    }
}

type ShiftResult = (Vec<HttpRouteDestination>, Vec<Use>);

fn traffic_shift(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    p: &Policy,
    source: &str,
    destinations: &[WeightedDestination],
) -> Result<ShiftResult, String> {
    let mut dests = Vec::new();
    let mut uses = Vec::new();
    let single = destinations.len() == 1;
    for (i, d) in destinations.iter().enumerate() {
        let weight = (!single && d.weight > 0).then(|| i32::try_from(d.weight).unwrap_or(i32::MAX));
        let destination = match (&d.kube_service, &d.failover_service) {
            (Some(k), None) => {
                let x = TargetId::new(&k.name, &k.namespace, &k.cluster_name);
                let ports = match ctx.targets.get(&x) {
                    Some(s) => s.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
                    None => {
                        return Err(format!(
                            "invalid traffic shift destination {}: traffic target not found",
                            x.key()
                        ));
                    }
                };
                let port = check_port(k.port, &ports, "traffic shift", &x)?;
                let (host, subset) = destination_for(ctx, source, &x, &k.subset);
                uses.push(Use {
                    consumer: source.to_string(),
                    target: x,
                    subset: k.subset.clone(),
                    owner: p.id.clone(),
                });
                Destination { host, subset, port }
            }
            (None, Some(f)) => {
                let Some(fs) = ctx.failover(&f.namespace, &f.name) else {
                    let key = naming::object_key(&f.name, &f.namespace);
                    return Err(format!(
                        "invalid traffic shift destination {key}, FailoverService not found: *v1alpha2.FailoverService with id {key} not found"
                    ));
                };
                let visible = fs.fs.spec.meshes.iter().flatten().any(|m| {
                    ctx.cluster_of_mesh(&m.name)
                        .is_some_and(|c| c.name == source)
                });
                if !visible {
                    report.warning(
                        &p.source,
                        &p.id,
                        &format!("spec.trafficShift.destinations[{i}].failoverService"),
                        format!(
                            "FailoverService {}/{} is not visible in cluster {source} (its spec.meshes does not list that cluster's mesh), so no ServiceEntry or EnvoyFilter exists there for {}; requests routed to it will fail",
                            fs.namespace(),
                            fs.name(),
                            fs.fs.spec.hostname
                        ),
                    );
                }
                match ctx.native_plan(fs.namespace(), fs.name()) {
                    // Native: straight to the backing Service's priority subset (a route to
                    // the hostname would not follow the hostname's own VirtualService).
                    Some(plan) => Destination {
                        host: plan.host(ctx, source),
                        subset: Some(plan.subset.clone()),
                        port: Some(PortSelector { number: plan.port }),
                    },
                    None => Destination {
                        host: fs.fs.spec.hostname.clone(),
                        subset: (!f.subset.is_empty()).then(|| naming::subset_name(&f.subset)),
                        port: fs.fs.spec.port.as_ref().map(|port| PortSelector {
                            number: port.number,
                        }),
                    },
                }
            }
            (None, None) => {
                return Err("must set a destination type on traffic shift destination".into());
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "destination {i} sets both kubeService and failoverService; set one"
                ));
            }
        };
        dests.push(HttpRouteDestination {
            destination,
            weight,
        });
    }
    Ok((dests, uses))
}
