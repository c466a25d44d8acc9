/* tongban schema form: renders an application form from its JSON Schema and validates it in the browser.
 *
 * Progressive enhancement: the server already rendered plain inputs from the same schema (the page works
 * without JavaScript) and validates again on submit. This script replaces those inputs with its own
 * rendering (same names, so the server reads them the same way), validates on blur and on submit, shows
 * inline errors next to the fields (aria-invalid + aria-describedby) and a summary that takes the focus.
 * Supported: string (text, textarea, date, email, pattern, minLength, maxLength), number, integer (minimum,
 * maximum, exclusive bounds), boolean, enum / oneOf-const (select), array of enum (checkboxes), nested objects
 * (fieldsets), required, Chinese titles. No dependencies, no build step.
 */
(function () {
  "use strict";

  function readJSON(id, fallback) {
    var el = document.getElementById(id);
    if (!el) { return fallback; }
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; } else if (v === true) { node.setAttribute(k, ""); } else { node.setAttribute(k, String(v)); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function fieldId(path) { return "f-" + path.replace(/[^A-Za-z0-9_-]/g, "-"); }

  function typeOf(schema) {
    var t = schema.type || "string";
    if (Array.isArray(t)) { t = t.filter(function (x) { return x !== "null"; })[0] || "string"; }
    return t;
  }

  function optionsOf(schema) {
    if (!schema) { return []; }
    if (Array.isArray(schema["enum"])) {
      return schema["enum"].filter(function (v) { return v !== null; }).map(function (v) { return [String(v), String(v)]; });
    }
    if (Array.isArray(schema.oneOf) && schema.oneOf.every(function (o) { return "const" in o; })) {
      return schema.oneOf.map(function (o) { return [String(o["const"]), String(o.title || o["const"])]; });
    }
    return [];
  }

  function widgetOf(schema) {
    var t = typeOf(schema);
    if (t === "object") { return "group"; }
    if (t === "array") { return optionsOf(schema.items).length ? "checkboxes" : "json"; }
    if (optionsOf(schema).length) { return "select"; }
    if (t === "boolean") { return "checkbox"; }
    if (t === "number" || t === "integer") { return "number"; }
    if (t === "string") {
      if (schema.format === "date" || schema.format === "email") { return schema.format; }
      if (schema["x-widget"] === "textarea" || (schema.maxLength || 0) > 200) { return "textarea"; }
      return "text";
    }
    return "json";
  }

  var MESSAGES = {
    required: function (t) { return "请填写“" + t + "”"; },
    choose: function (t) { return "请选择“" + t + "”"; },
    number: function (t) { return "“" + t + "”须为数字"; },
    integer: function (t) { return "“" + t + "”须为整数"; },
    minimum: function (t, n) { return "“" + t + "”不能小于 " + n; },
    maximum: function (t, n) { return "“" + t + "”不能大于 " + n; },
    exclusiveMinimum: function (t, n) { return "“" + t + "”须大于 " + n; },
    exclusiveMaximum: function (t, n) { return "“" + t + "”须小于 " + n; },
    minLength: function (t, n) { return "“" + t + "”至少 " + n + " 个字符"; },
    maxLength: function (t, n) { return "“" + t + "”最多 " + n + " 个字符"; },
    pattern: function (t) { return "“" + t + "”格式不正确"; },
    date: function (t) { return "“" + t + "”须为有效日期（年-月-日）"; },
    email: function (t) { return "“" + t + "”须为有效的电子邮箱地址"; },
    "enum": function (t) { return "“" + t + "”的选项无效"; },
    json: function (t) { return "“" + t + "”须为有效的 JSON"; },
    file: function (n) { return "不支持的文件类型“" + n + "”，请上传 PDF、JPG、PNG 或 OFD 文件"; },
    size: function (mb) { return "文件超过 " + mb + " MB 的大小限制"; }
  };

  function regexOf(pattern) {
    try { return new RegExp(pattern, "u"); } catch (e) {
      try { return new RegExp(pattern); } catch (e2) { return null; }
    }
  }

  function validDate(text) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) { return false; }
    var d = new Date(text + "T00:00:00Z");
    return !isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
  }

  /* --- rendering ------------------------------------------------------------------------------------- */

  function SchemaForm(container, schema, values, errors, itemNames) {
    this.container = container;
    this.schema = schema;
    this.itemNames = itemNames || {};
    this.fields = [];
    var serverErrors = {};
    (errors || []).forEach(function (e) { if (!(e.field in serverErrors)) { serverErrors[e.field] = e.message; } });
    var nodes = this.renderObject(schema, values || {}, "", serverErrors);
    container.textContent = "";
    nodes.forEach(function (n) { container.appendChild(n); });
    container.setAttribute("data-rendered", "js");
  }

  SchemaForm.prototype.sharedNote = function (schema) {
    var codes = schema["x-tongban-items"] || [];
    if (codes.length < 2) { return null; }
    var names = codes.map(function (c) { return this.itemNames[c] || c; }, this);
    return el("p", { "class": "shared", text: "多个事项共用：" + names.join("、") });
  };

  SchemaForm.prototype.renderObject = function (schema, values, prefix, serverErrors) {
    var required = schema.required || [];
    var props = schema.properties || {};
    var out = [];
    Object.keys(props).forEach(function (name) {
      var prop = props[name];
      var path = prefix + name;
      var value = values && Object.prototype.hasOwnProperty.call(values, name) ? values[name] : prop["default"];
      out.push(this.renderField(path, prop, required.indexOf(name) >= 0, value, serverErrors));
    }, this);
    return out;
  };

  SchemaForm.prototype.labelText = function (title, required) {
    var frag = document.createDocumentFragment();
    frag.appendChild(document.createTextNode(title));
    if (required) { frag.appendChild(document.createTextNode(" ")); frag.appendChild(el("span", { "class": "req", text: "（必填）" })); }
    return frag;
  };

  SchemaForm.prototype.renderField = function (path, schema, required, value, serverErrors) {
    var widget = widgetOf(schema);
    var id = fieldId(path);
    var title = schema.title || path.split(".").pop();
    var errorNode = el("p", { "class": "field-error", id: id + "-error", hidden: true });
    var hint = schema.description ? el("p", { "class": "hint", text: schema.description }) : null;
    var field = { path: path, schema: schema, required: required, widget: widget, title: title, id: id, errorNode: errorNode, inputs: [] };
    var wrapper;

    if (widget === "group") {
      var legend = el("legend");
      legend.appendChild(this.labelText(title, required));
      wrapper = el("fieldset", { "class": "group", id: id, "data-path": path }, [legend, hint]);
      this.renderObject(schema, value && typeof value === "object" ? value : {}, path + ".", serverErrors)
        .forEach(function (n) { wrapper.appendChild(n); });
      return wrapper;
    }

    if (widget === "checkboxes") {
      var lg = el("legend");
      lg.appendChild(this.labelText(title, required));
      wrapper = el("fieldset", { "class": "options field", id: id, "data-path": path, "aria-describedby": id + "-error" }, [lg]);
      var chosen = Array.isArray(value) ? value.map(String) : [];
      optionsOf(schema.items).forEach(function (opt, i) {
        var box = el("input", { type: "checkbox", name: path, value: opt[0], id: id + "-" + i, checked: chosen.indexOf(opt[0]) >= 0 });
        field.inputs.push(box);
        var label = el("label", { "for": id + "-" + i }, [box]);
        label.appendChild(document.createTextNode(" " + opt[1]));
        wrapper.appendChild(label);
      });
    } else if (widget === "checkbox") {
      var cb = el("input", { type: "checkbox", id: id, name: path, value: "true", checked: value === true, "aria-describedby": id + "-error" });
      field.inputs.push(cb);
      var cl = el("label", { "for": id });
      cl.appendChild(this.labelText(title, required));
      wrapper = el("div", { "class": "field check", "data-path": path }, [cb, el("div", {}, [cl])]);
    } else {
      var label2 = el("label", { "for": id });
      label2.appendChild(this.labelText(title, required));
      var input;
      var common = { id: id, name: path, "aria-describedby": id + "-error", "aria-required": required ? "true" : null };
      if (widget === "select") {
        input = el("select", common, [el("option", { value: "", text: "请选择" })]);
        optionsOf(schema).forEach(function (opt) {
          input.appendChild(el("option", { value: opt[0], text: opt[1], selected: value !== undefined && value !== null && String(value) === opt[0] }));
        });
      } else if (widget === "textarea" || widget === "json") {
        input = el("textarea", common);
        input.value = value === undefined || value === null ? "" : (typeof value === "string" ? value : JSON.stringify(value));
      } else {
        var attrs = Object.assign({}, common, {
          type: widget === "number" ? "text" : (widget === "date" ? "date" : (widget === "email" ? "email" : "text")),
          inputmode: widget === "number" ? (typeOf(schema) === "integer" ? "numeric" : "decimal") : null,
          maxlength: schema.maxLength || null,
          autocomplete: "off"
        });
        input = el("input", attrs);
        input.value = value === undefined || value === null ? "" : String(value);
      }
      field.inputs.push(input);
      wrapper = el("div", { "class": "field", "data-path": path }, [label2, input]);
    }
    var shared = this.sharedNote(schema);
    if (widget === "checkbox") {
      var inner = wrapper.lastChild;
      if (shared) { inner.appendChild(shared); }
      if (hint) { inner.appendChild(hint); }
      inner.appendChild(errorNode);
    } else {
      if (shared) { wrapper.appendChild(shared); }
      if (hint) { wrapper.appendChild(hint); }
      wrapper.appendChild(errorNode);
    }
    field.wrapper = wrapper;
    this.fields.push(field);
    var self = this;
    field.inputs.forEach(function (inp) {
      var ev = inp.type === "checkbox" || inp.tagName === "SELECT" ? "change" : "blur";
      inp.addEventListener(ev, function () { self.showError(field, self.check(field)); });
      inp.addEventListener("input", function () { if (field.wrapper.classList.contains("has-error")) { self.showError(field, self.check(field)); } });
    });
    if (serverErrors[path]) { this.showError(field, serverErrors[path]); }
    return wrapper;
  };

  /* --- validation ------------------------------------------------------------------------------------ */

  SchemaForm.prototype.check = function (field) {
    var s = field.schema, t = field.title, w = field.widget;
    if (w === "checkbox") { return ""; }
    if (w === "checkboxes") {
      var any = field.inputs.some(function (i) { return i.checked; });
      if (field.required && !any) { return MESSAGES.choose(t); }
      var n = field.inputs.filter(function (i) { return i.checked; }).length;
      if (s.minItems && any && n < s.minItems) { return "“" + t + "”至少选择 " + s.minItems + " 项"; }
      if (s.maxItems && n > s.maxItems) { return "“" + t + "”最多选择 " + s.maxItems + " 项"; }
      return "";
    }
    var input = field.inputs[0];
    var raw = (input.value || "").trim();
    if (input.validity && input.validity.badInput) { return w === "date" ? MESSAGES.date(t) : MESSAGES.number(t); }
    if (!raw) { return field.required ? (w === "select" ? MESSAGES.choose(t) : MESSAGES.required(t)) : ""; }
    if (w === "select") {
      return optionsOf(s).some(function (o) { return o[0] === raw; }) ? "" : MESSAGES["enum"](t);
    }
    if (w === "number") {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) { return MESSAGES.number(t); }
      var num = Number(raw);
      if (typeOf(s) === "integer" && !/^[+-]?\d+$/.test(raw)) { return MESSAGES.integer(t); }
      if (typeof s.minimum === "number" && num < s.minimum) { return MESSAGES.minimum(t, s.minimum); }
      if (typeof s.maximum === "number" && num > s.maximum) { return MESSAGES.maximum(t, s.maximum); }
      if (typeof s.exclusiveMinimum === "number" && num <= s.exclusiveMinimum) { return MESSAGES.exclusiveMinimum(t, s.exclusiveMinimum); }
      if (typeof s.exclusiveMaximum === "number" && num >= s.exclusiveMaximum) { return MESSAGES.exclusiveMaximum(t, s.exclusiveMaximum); }
      return "";
    }
    if (w === "json") {
      try { JSON.parse(raw); } catch (e) { return MESSAGES.json(t); }
      return "";
    }
    var length = Array.from(raw).length;
    if (typeof s.minLength === "number" && length < s.minLength) { return MESSAGES.minLength(t, s.minLength); }
    if (typeof s.maxLength === "number" && length > s.maxLength) { return MESSAGES.maxLength(t, s.maxLength); }
    if (s.format === "date" && !validDate(raw)) { return MESSAGES.date(t); }
    if (s.format === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(raw)) { return MESSAGES.email(t); }
    if (s.pattern) {
      var re = regexOf(s.pattern);
      if (re && !re.test(raw)) { return MESSAGES.pattern(t) + (s.description ? "（" + s.description + "）" : ""); }
    }
    return "";
  };

  SchemaForm.prototype.showError = function (field, message) {
    field.errorNode.textContent = message || "";
    field.errorNode.hidden = !message;
    field.wrapper.classList.toggle("has-error", !!message);
    field.inputs.forEach(function (i) {
      if (message) { i.setAttribute("aria-invalid", "true"); } else { i.removeAttribute("aria-invalid"); }
    });
  };

  SchemaForm.prototype.validate = function () {
    var problems = [];
    this.fields.forEach(function (f) {
      var msg = this.check(f);
      this.showError(f, msg);
      if (msg) { problems.push({ field: f, message: msg }); }
    }, this);
    return problems;
  };

  /* --- materials: type and size before upload ------------------------------------------------------ */

  function checkFile(input, accept, maxBytes) {
    var errorNode = document.getElementById(input.id + "-error");
    var message = "";
    var file = input.files && input.files[0];
    if (file) {
      var ext = (file.name.match(/\.[^.]+$/) || [""])[0].toLowerCase();
      if (accept.indexOf(ext) < 0) { message = MESSAGES.file(file.name); }
      else if (maxBytes && file.size > maxBytes) { message = MESSAGES.size(Math.floor(maxBytes / 1048576)); }
      else if (file.size === 0) { message = "文件为空"; }
    }
    if (errorNode) { errorNode.textContent = message; errorNode.hidden = !message; }
    if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    return message;
  }

  /* --- wiring -------------------------------------------------------------------------------------- */

  function init() {
    var container = document.getElementById("schema-form");
    if (!container) { return; }
    var schema = readJSON(container.getAttribute("data-schema"), null);
    if (!schema) { return; }
    var form = container.closest("form");
    var sf = new SchemaForm(container, schema, readJSON(container.getAttribute("data-values"), {}),
      readJSON(container.getAttribute("data-errors"), []), readJSON(container.getAttribute("data-items"), {}));
    window.tongbanSchemaForm = sf;
    if (!form) { return; }
    form.setAttribute("novalidate", "");
    var accept = (form.getAttribute("data-accept") || "").split(",");
    var maxBytes = parseInt(form.getAttribute("data-max-upload") || "0", 10);
    var fileInputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file]"));
    fileInputs.forEach(function (input) {
      input.addEventListener("change", function () { checkFile(input, accept, maxBytes); });
    });
    var summary = document.getElementById("error-summary");
    var list = document.getElementById("error-list");
    var count = document.getElementById("error-count");
    var lastAction = null;
    form.addEventListener("click", function (e) {
      var b = e.target.closest("button[name=action]");
      if (b) { lastAction = b.value; }
    });
    form.addEventListener("submit", function (e) {
      var action = (e.submitter && e.submitter.value) || lastAction || "submit";
      var fileProblems = fileInputs.filter(function (i) { return checkFile(i, accept, maxBytes); });
      if (action !== "submit") {
        if (fileProblems.length) { e.preventDefault(); fileProblems[0].focus(); }
        return;
      }
      var problems = sf.validate();
      if (!problems.length && !fileProblems.length) { return; }
      e.preventDefault();
      if (summary && list) {
        list.textContent = "";
        problems.forEach(function (p) {
          var a = el("a", { href: "#" + p.field.inputs[0].id, text: p.message });
          a.addEventListener("click", function (ev) { ev.preventDefault(); p.field.inputs[0].focus(); });
          list.appendChild(el("li", {}, [a]));
        });
        fileProblems.forEach(function (i) {
          var a = el("a", { href: "#" + i.id, text: document.getElementById(i.id + "-error").textContent });
          list.appendChild(el("li", {}, [a]));
        });
        if (count) { count.textContent = String(problems.length + fileProblems.length); }
        summary.hidden = false;
        summary.focus();
      } else if (problems.length) {
        problems[0].field.inputs[0].focus();
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
