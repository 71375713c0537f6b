/**
 * Zero-JavaScript mode: keeps the named controls of one form in the shared state. Each
 * control's name is a key at the top of the state; text fields, selects and radio groups hold
 * strings, a lone checkbox holds a boolean, and multiple selects and checkbox groups hold
 * arrays of strings.
 */
import type { Json } from '../protocol.js';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
type Values = { [name: string]: Json };

const isCheckbox = (node: unknown): node is HTMLInputElement =>
  node instanceof HTMLInputElement && /^(checkbox|radio)$/.test(node.type);

export class FormBinding {
  /**
   * @param form - the form whose named controls are shared
   * @param write - called with a merge patch when the user edits a control
   */
  constructor(
    readonly form: HTMLFormElement,
    private _write: (patch: Values) => void,
  ) {
    form.addEventListener('input', this);
  }

  /** Stops listening to the form. */
  disconnect(): void {
    this.form.removeEventListener('input', this);
  }

  /** An edit in the form: share the value of the edited control. @internal */
  handleEvent(event: Event): void {
    const { name } = event.target as Control;
    if (name) this._write({ [name]: this._read(name) });
  }

  /** The values of all named controls, as they would be shared. */
  values(): Values {
    const values: Values = {};
    for (const name of this._names()) values[name] = this._read(name);
    return values;
  }

  /** Shows `state` in the controls it names; controls it does not name are left alone. */
  show(state: Json): void {
    if (typeof state != 'object' || !state || Array.isArray(state)) return;
    for (const name of this._names()) {
      const value = Object.hasOwn(state, name) ? state[name] : undefined;
      // Leaving equal values alone keeps the caret where the user is typing.
      if (value === undefined || JSON.stringify(value) == JSON.stringify(this._read(name)))
        continue;
      const selected = new Set([value].flat().map(String));
      for (const control of this._controls(name)) {
        if (isCheckbox(control)) {
          control.checked = typeof value == 'boolean' ? value : selected.has(control.value);
        } else if (control instanceof HTMLSelectElement && control.multiple) {
          for (const option of control.options) option.selected = selected.has(option.value);
        } else {
          control.value = String(value);
        }
      }
    }
  }

  private _names(): Set<string> {
    const names = new Set<string>();
    for (const control of this.form.elements) {
      const { name, type } = control as Control;
      if (name && !/^(submit|button|reset|file|image)$/.test(type)) names.add(name);
    }
    return names;
  }

  private _controls(name: string): Control[] {
    const item = this.form.elements.namedItem(name);
    return (item instanceof RadioNodeList ? [...item] : [item]) as Control[];
  }

  private _read(name: string): Json {
    const controls = this._controls(name);
    const [first] = controls;
    if (first instanceof HTMLSelectElement && first.multiple) {
      return [...first.selectedOptions].map((option) => option.value);
    }
    if (!isCheckbox(first)) return first.value;
    if (first.type == 'radio')
      return controls.find((c) => (c as HTMLInputElement).checked)?.value ?? '';
    // One checkbox is a yes/no; several with the same name are a set of chosen values.
    if (controls.length == 1) return first.checked;
    return controls.filter((c) => (c as HTMLInputElement).checked).map((c) => c.value);
  }
}
