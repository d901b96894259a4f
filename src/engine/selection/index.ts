// The selection dimension in the engine: which entries of which backbone weights train.
export { Selection, slotKey, type SelectionLayout, type SlotLayout, type GradContext } from './selection.js';
export { SelectedLinear, type SlotSpec } from './selected-linear.js';
export { prepareSelection, measureSensitivity, type SelectionSummary } from './prepare.js';
export { writeSelectionLayout, readSelectionLayout, SELECTION_FILE } from './persist.js';
