{{- define "rollcall.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "rollcall.labels" -}}
app.kubernetes.io/name: rollcall
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "rollcall.selector" -}}
app.kubernetes.io/name: rollcall
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/*
The namespaces Rollcall serves, as a JSON list: watchNamespaces, plus the older single watchNamespace.
Empty: every namespace (cluster mode).
*/}}
{{- define "rollcall.watchNamespaces" -}}
{{- $namespaces := .Values.watchNamespaces | default list -}}
{{- if .Values.watchNamespace }}{{ $namespaces = append $namespaces .Values.watchNamespace }}{{ end -}}
{{- toJson ($namespaces | uniq) -}}
{{- end -}}
{{/*
Where the kubernetes connector writes RoleBindings, as a JSON list: kubernetesConnector.namespaces
(default: the watched namespaces; in cluster mode "*"), plus each allow entry's namespace and the
namespaces it may reach. "*" in it means every namespace. Empty: the connector is off.
*/}}
{{- define "rollcall.bindingNamespaces" -}}
{{- $namespaces := list -}}
{{- if .Values.kubernetesConnector.enabled -}}
{{- $namespaces = .Values.kubernetesConnector.namespaces | default (include "rollcall.watchNamespaces" . | fromJsonArray) | default (list "*") -}}
{{- range .Values.kubernetesConnector.allow -}}
{{- $namespaces = append $namespaces .namespace -}}
{{- $namespaces = concat $namespaces (.namespaces | default list) -}}
{{- end -}}
{{- end -}}
{{- toJson ($namespaces | uniq) -}}
{{- end -}}
{{/* The rules for what Rollcall serves in a namespace: its objects, their credentials, Events. */}}
{{- define "rollcall.servedRules" -}}
- apiGroups: [rollcall.dev]
  resources: [connectedsystems, users, accessroles, accessbindings, identitysources, accessreviews]
  verbs: [get, list, watch, update, patch]
- apiGroups: [rollcall.dev]
  resources: [connectedsystems/status, users/status, accessroles/status, accessbindings/status, identitysources/status, accessreviews/status]
  verbs: [get, update, patch]
- apiGroups: [rollcall.dev]
  resources: [users, accessreviews]
  verbs: [create]          # IdentitySources create joiners; scheduled reviews their next campaign
- apiGroups: [""]
  resources: [secrets, configmaps]
  verbs: [get]             # credentials and feeds, by name
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, delete]  # joiners' first passwords (spec.credentials.policy initialPassword), deleted after their ttl
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
{{/* RoleBinding writes, and binding the roles an admin allowed by name (never "*"). */}}
{{- define "rollcall.bindingRules" -}}
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings]
  verbs: [create, update, patch, delete]
{{- /* Only when the list is not empty: an empty resourceNames would mean every ClusterRole. */}}
{{- with .Values.kubernetesConnector.bindableClusterRoles }}
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
  resourceNames: {{ toJson . }}
{{- end }}
{{- end -}}
