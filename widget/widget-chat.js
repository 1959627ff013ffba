// The chat's entry point, served as /widget-chat.js: hands startChat (widget/chat.js) to the loader (widget/widget.js) that asked for it, through the loader's symbol on window, so the widget keeps one global.
import { startChat } from './chat.js';

const handOver = window[Symbol.for('support-desk.widget')];
if (typeof handOver == 'function') handOver(startChat);
