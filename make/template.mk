# Template checks (owned by the template/packaging work; see issue 6).
.PHONY: template
template: venv
	$(VENV)/bin/cfn-lint template.yaml
