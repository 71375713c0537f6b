import { expect, fixture, html } from '@open-wc/testing';
import type { SessionSync } from '../../src/index.js';
import { endpoint, until } from './support/helpers.js';

/** A form and an element bound to it, side by side in one fixture. */
async function boundForm(id: string) {
  const wrapper = await fixture<HTMLElement>(
    html`<div>
      <form id=${id}>
        <input name="title" value="Trip" />
        <input name="sunny" type="checkbox" />
        <select name="city">
          <option>Oslo</option>
          <option>Lima</option>
        </select>
        <input name="size" type="radio" value="s" checked /><input
          name="size"
          type="radio"
          value="l"
        />
        <input name="tags" type="checkbox" value="a" /><input
          name="tags"
          type="checkbox"
          value="b"
        />
        <button>Save</button>
      </form>
      <session-sync endpoint=${endpoint} headless bind=${`form#${id}`}></session-sync>
    </div>`,
  );
  const form = wrapper.querySelector('form')!;
  const el = wrapper.querySelector('session-sync') as SessionSync;
  await el.updateComplete;
  return { form, el, control: (name: string) => form.elements.namedItem(name) as HTMLInputElement };
}

/** Edits a control the way a user does: change its value, then the input event. */
function edit(control: HTMLInputElement | HTMLSelectElement, change: () => void) {
  change();
  control.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('<session-sync bind>: the form binding', () => {
  it('starts a session with the form values as the initial state', async () => {
    const { el, control } = await boundForm('first');
    const errors: Event[] = [];
    el.addEventListener('error', (e) => errors.push(e));

    edit(control('title'), () => (control('title').value = 'Lisbon'));
    const { state } = await el.start();

    expect(errors).to.deep.equal([]);

    expect(state).to.deep.equal({
      title: 'Lisbon',
      sunny: false,
      city: 'Oslo',
      size: 's',
      tags: [],
    });
  });

  it('carries edits of every kind of control to another bound form', async () => {
    const a = await boundForm('a');
    const { key } = await a.el.start();
    const b = await boundForm('b');
    b.el.join(key, a.el.token);
    await until(() => b.el.status == 'live', 'b goes live');

    edit(a.control('title'), () => (a.control('title').value = 'Lima weekend'));
    edit(a.control('sunny'), () => (a.control('sunny').checked = true));
    const city = a.form.elements.namedItem('city') as HTMLSelectElement;
    edit(city, () => (city.value = 'Lima'));
    const large = a.form.querySelector<HTMLInputElement>('[name=size][value=l]')!;
    edit(large, () => (large.checked = true));
    const tagB = a.form.querySelector<HTMLInputElement>('[name=tags][value=b]')!;
    edit(tagB, () => (tagB.checked = true));
    await until(() => JSON.stringify(b.el.state) == JSON.stringify(a.el.state), 'b has a’s state');
    await until(() => b.control('title').value == 'Lima weekend', 'b’s form shows it');

    expect(b.control('sunny').checked).to.be.true;
    expect((b.form.elements.namedItem('city') as HTMLSelectElement).value).to.equal('Lima');
    expect(b.form.querySelector<HTMLInputElement>('[name=size][value=l]')!.checked).to.be.true;
    expect(b.form.querySelector<HTMLInputElement>('[name=tags][value=b]')!.checked).to.be.true;
    expect(b.el.state).to.deep.equal({
      title: 'Lima weekend',
      sunny: true,
      city: 'Lima',
      size: 'l',
      tags: ['b'],
    });
  });

  it('makes a view-only form inert, and keeps it in step', async () => {
    const a = await boundForm('owner');
    const { key } = await a.el.start();
    const viewer = await boundForm('viewer');

    await viewer.el.join(key);
    edit(a.control('title'), () => (a.control('title').value = 'Shown'));
    await until(() => viewer.control('title').value == 'Shown', 'the viewer’s form follows');

    expect(viewer.form.inert).to.be.true;
    expect(a.form.inert).to.be.false;
  });
});
