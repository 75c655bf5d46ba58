package oracle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	"istio.io/istio/pkg/webhooks/validation/server"
)

// The label kubectl-smh puts on every translated object: the cluster to apply it to.
const clusterLabel = "cluster.multicluster.solo.io"

// Object is one object printed by `kubectl smh translate`.
type Object struct {
	Raw       json.RawMessage
	Kind      string
	Namespace string
	Name      string
	Cluster   string
	Doc       int // position in the file, from 1
}

func (o Object) Ref() string { return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name) }

// ReadObjects reads a YAML stream (or a JSON v1 List) of translated objects.
func ReadObjects(path string) ([]Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 1<<20)
	var out []Object
	add := func(raw json.RawMessage) error {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		out = append(out, Object{
			Raw: raw, Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace,
			Cluster: head.Metadata.Labels[clusterLabel], Doc: len(out) + 1,
		})
		return nil
	}
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
			continue
		}
		var list struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if list.Kind == "List" {
			for _, item := range list.Items {
				if err := add(item); err != nil {
					return nil, fmt.Errorf("%s: %v", path, err)
				}
			}
			continue
		}
		if err := add(raw); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return out, nil
}

// Clusters lists the clusters the objects are for, sorted.
func Clusters(objs []Object) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		if o.Cluster != "" {
			seen[o.Cluster] = true
		}
	}
	return sortedKeys(seen)
}

// Webhook is istiod's validating admission webhook (pkg/webhooks/validation/server), served in
// process: every object goes through the same HTTP handler, AdmissionReview decoding,
// conversion and validation that kube-apiserver's call to istiod goes through.
type Webhook struct{ mux *http.ServeMux }

func NewWebhook() (*Webhook, error) {
	mux := http.NewServeMux()
	// The options istiod's bootstrap passes (pilot/pkg/bootstrap/validation.go).
	if _, err := server.New(server.Options{
		Schemas: collections.PilotGatewayAPI(), DomainSuffix: "cluster.local", Mux: mux,
	}); err != nil {
		return nil, err
	}
	return &Webhook{mux: mux}, nil
}

// Review is istiod's answer to one admission request.
type Review struct {
	Allowed  bool
	Message  string
	Warnings []string
}

// Review sends one object to the webhook as kube-apiserver would on create.
func (w *Webhook) Review(raw json.RawMessage) (Review, error) {
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Review{}, err
	}
	gv, err := parseGroupVersion(head.APIVersion)
	if err != nil {
		return Review{}, err
	}
	plural := head.Kind
	if s, ok := collections.PilotGatewayAPI().FindByGroupKind(config.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: head.Kind}); ok {
		plural = s.Plural()
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("kubectl-smh-istio-oracle"),
			Kind:      metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: head.Kind},
			Resource:  metav1.GroupVersionResource{Group: gv.Group, Version: gv.Version, Resource: plural},
			Name:      head.Metadata.Name,
			Namespace: head.Metadata.Namespace,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return Review{}, err
	}
	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return Review{}, fmt.Errorf("istiod's webhook answered HTTP %d: %s", rec.Code, rec.Body.String())
	}
	var resp admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Response == nil {
		return Review{}, fmt.Errorf("cannot decode istiod's webhook answer %q: %v", rec.Body.String(), err)
	}
	out := Review{Allowed: resp.Response.Allowed, Warnings: resp.Response.Warnings}
	if resp.Response.Result != nil {
		out.Message = resp.Response.Result.Message
	}
	return out, nil
}

func parseGroupVersion(apiVersion string) (metav1.GroupVersion, error) {
	for i := 0; i < len(apiVersion); i++ {
		if apiVersion[i] == '/' {
			return metav1.GroupVersion{Group: apiVersion[:i], Version: apiVersion[i+1:]}, nil
		}
	}
	return metav1.GroupVersion{}, fmt.Errorf("apiVersion %q is not GROUP/VERSION", apiVersion)
}

// creationTime is the creation timestamp every config gets, so that istiod's oldest-first
// tie-breaks fall back to names and the output does not depend on when the oracle ran.
var creationTime = time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC)

// ToConfig converts an object as istiod's config store does (crd.ConvertObject, the conversion
// the webhook also runs).
func ToConfig(o Object) (config.Config, error) {
	var kind crd.IstioKind
	if err := json.Unmarshal(o.Raw, &kind); err != nil {
		return config.Config{}, err
	}
	gvk := kind.GroupVersionKind()
	s, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk))
	if !ok {
		return config.Config{}, fmt.Errorf("%s: istiod does not know the kind %s", o.Ref(), gvk)
	}
	cfg, err := crd.ConvertObject(s, &kind, "cluster.local")
	if err != nil {
		return config.Config{}, fmt.Errorf("%s: %v", o.Ref(), err)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	cfg.CreationTimestamp = creationTime
	return *cfg, nil
}

func sortConfigs(cfgs []config.Config) {
	sort.SliceStable(cfgs, func(i, j int) bool {
		a, b := cfgs[i], cfgs[j]
		if a.GroupVersionKind.Kind != b.GroupVersionKind.Kind {
			return a.GroupVersionKind.Kind < b.GroupVersionKind.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
