/** A yes/no question in the page's own modal dialog, which, unlike confirm(), does not stop the page's timers. */
import { byId } from './dom';

/** Asks `question`; resolves true when the user chooses `yes`. */
export function ask(question: string, yes: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  byId('confirm-text').textContent = question;
  byId('confirm-yes').textContent = yes;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
  });
}
