// Small dense linear algebra in float64 for adapter operations (truncated SVDs of merged updates,
// orthogonal bases): matrices of a model's hidden size at most, so plain loops suffice.
export { symmetricEigen, type SymmetricEigen } from './eigen.js';
export { truncatedSvd, type TruncatedSvd } from './svd.js';
export { orthonormalColumns } from './orthogonal.js';
