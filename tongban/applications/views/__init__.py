"""HTML pages of the applications context (办件), one module per audience.

- ``applicant``: my applications, the case page, supplements and corrections, proxies, investment projects;
- ``apply``: applying (situation guide → material list → form, uploads, commitment → submit);
- ``window``: the one-window intake (综合窗口) and 帮办;
- ``approver``: the approver workbench (审批工作台); the old post-check address redirects to supervision;
- ``documents``: downloads behind access checks and the public verification of notices;
- ``schemaform``: forms generated from the application's JSON Schema (server side of the progressive enhancement);
- ``common``: the page frame, refusals, the case page's context, posted actions.

Thin views: every write goes through the services (one transaction each), every read through the selectors.
The server renders plain inputs from the JSON Schema (works without JavaScript) and
``static/applications/schemaform.js`` re-renders them from the same schema with client-side validation; the
server validates again on submit.
"""
