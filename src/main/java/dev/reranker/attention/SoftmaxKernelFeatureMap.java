package dev.reranker.attention;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * FAVOR+ positive random features for the softmax kernel (Choromanski et al. 2021, Lemma 1).
 *
 * <h2>The map</h2>
 * With x̃ = d^(-1/4)·x and u_i(x) = w_iᵀx̃ − ‖x̃‖²/2,
 * <pre>
 *   φ(x)_i = m^(-1/2) · (exp(u_i(x) − c) + ε)                       (1)
 * </pre>
 * E_w[exp(u(q))·exp(u(k))] = exp(q̃ᵀk̃) = exp(qᵀk/√d) for w ~ N(0, I), so φ(q)ᵀφ(k) is an unbiased
 * (for ε = c = 0), strictly positive estimate of the softmax kernel. Note E[exp(u_i(x))] = 1 for every
 * x: the natural scale of a feature is 1.
 *
 * <h2>Stabilisers: why c differs for queries and keys</h2>
 * In attention, out = φ(q)ᵀS / φ(q)ᵀz with S = Σ_j φ(k_j) v_jᵀ and z = Σ_j φ(k_j).
 * <ul>
 *   <li><b>Queries</b>: c = max_i u_i(q), per row. It multiplies numerator and denominator by the same
 *   factor, so it cancels (up to ε), and it makes the largest feature exactly 1: no overflow.</li>
 *   <li><b>Keys</b>: every key that enters one sum must be scaled by the <em>same</em> factor; a per-key
 *   value reweights the keys against each other and biases attention (a numpy check, L = 512, d = 16:
 *   mean relative error stuck at 0.40–0.48 for m = 16…1024, against 0.40 → 0.084 with a shared one).
 *   It must also never look across time: the public implementations take a max over all positions,
 *   which leaks future keys into past outputs (performer-pytorch #82) and breaks incremental = batch.
 *   We use a <b>constant</b>, fixed by W alone: since u_i(x) ≤ max_x (‖w_i‖·t − t²/2) = ‖w_i‖²/2 for
 *   every x, the key exponent is bounded by U = max_i ‖w_i‖²/2 whatever the input. We take
 *   c_k = max(0, U − {@value #MAX_KEY_EXPONENT}), so every key feature is ≤ e^{@value #MAX_KEY_EXPONENT}
 *   ≈ 5e21 and sums of them over any realistic history stay far below float's 3.4e38. For the usual
 *   head sizes (d ≤ 64 with χ norms, d ≤ 100 with √d norms) c_k = 0 and (1) is the paper's formula.
 *   When c_k &gt; 0, ε is scaled with it (φ(k) = m^(-1/2)·e^(−c_k)·(exp(u) + ε)), a common factor of all
 *   keys that cancels exactly in out, so ε keeps the same meaning. A running prefix maximum with S, z
 *   rescaled on growth (the online-softmax trick) would also be exact, but it makes the batched and
 *   the incremental forms carry extra state for no gain once this bound exists.</li>
 * </ul>
 *
 * <h2>ε</h2>
 * ε = {@value #DEFAULT_EPSILON} keeps every feature strictly positive when exp underflows (very large
 * ‖x‖), so attention denominators never vanish. It must stay well below a typical feature: query
 * features are max-normalised, so their mean is about e^(−c_q), ~1e-2 for m = 1024; 1e-4 (the
 * performer-pytorch default) would pull every output 1% towards uniform attention there, 1e-6 (the
 * JAX reference) 0.01%. Configurations whose key shift would push ε·e^(−c_k) toward float's
 * subnormal range (c_k &gt; {@value #MAX_KEY_SHIFT}) are refused at construction.
 *
 * <h2>Backward</h2>
 * With e_i = exp(u_i − c): ∂φ_i/∂u_j = m^(-1/2)·e_i·δ_ij, and for queries c = u_{argmax} adds
 * −m^(-1/2)·e_i at j = argmax (exact away from ties; it is what makes the ε term differentiable
 * too). ∂u_i/∂x̃ = w_i − x̃, and ∂x̃/∂x = d^(-1/4).
 */
final class SoftmaxKernelFeatureMap extends ProjectedFeatureMap {

  /** ε of (1); see the class comment for why 1e-6 rather than 1e-4. */
  static final double DEFAULT_EPSILON = 1e-6;
  /** The largest exponent a key feature can reach: e^50 ≈ 5.2e21 per feature. */
  static final double MAX_KEY_EXPONENT = 50;
  /** The largest key shift accepted: beyond it ε·e^(−c_k) nears float's smallest normal number. */
  static final double MAX_KEY_SHIFT = 40;

  private final double epsilon;
  /** c_k, the constant key stabiliser; 0 for the usual head sizes. */
  private final double keyShift;
  /** ε·e^(−c_k): the ε of key features, scaled with them so that it keeps its meaning. */
  private final double keyEpsilon;

  SoftmaxKernelFeatureMap(FavorProjection projection, double epsilon) {
    super(projection);
    this.epsilon = Checks.positiveFinite("epsilon", epsilon);
    double bound = projection.maxHalfSquaredRowNorm();
    this.keyShift = Math.max(0, bound - MAX_KEY_EXPONENT);
    if (keyShift > MAX_KEY_SHIFT) {
      throw new IllegalArgumentException(String.format(
          "head dimension d=%d is too large for positive softmax features with %s row norms: "
              + "max ‖w‖²/2 = %.1f would need a key shift of %.1f > %.0f; use RowNorms.SQRT_D, "
              + "a smaller head dimension or the ReLU kernel",
          d, projection.rowNorms(), bound, keyShift, MAX_KEY_SHIFT));
    }
    this.keyEpsilon = epsilon * Math.exp(-keyShift);
  }

  @Override
  public Kernel kernel() {
    return Kernel.SOFTMAX;
  }

  double epsilon() {
    return epsilon;
  }

  @Override
  public Constants constants() {
    return new Constants(Kernel.SOFTMAX, inputScale, outputScale, epsilon, keyEpsilon, keyShift);
  }

  double keyShift() {
    return keyShift;
  }

  /** ε for queries; ε·e^(−c_k) for keys (see the class comment). */
  double epsilonFor(Role role) {
    return role == Role.QUERY ? epsilon : keyEpsilon;
  }

  @Override
  public INDArray apply(INDArray x, Role role) {
    Checks.notNull("role", role);
    INDArray xs = scaledRows(x); // (rows, d): x̃
    INDArray u = project(xs); // (rows, m): w_iᵀ x̃
    INDArray halfSquaredNorm = xs.mul(xs).sum(true, 1).muli(0.5); // (rows, 1)
    u.subiColumnVector(halfSquaredNorm); // u_i = w_iᵀx̃ − ‖x̃‖²/2
    if (role == Role.QUERY) {
      u.subiColumnVector(u.max(true, 1)); // c = per-row max: cancels in attention
    } else {
      u.subi(keyShift); // c = c_k, shared by every key of every sequence
    }
    Transforms.exp(u, false);
    u.addi(epsilonFor(role)).muli(outputScale); // φ = m^(-1/2)·(exp(u − c) + ε)
    return unflatten(u, x, m);
  }

  @Override
  public INDArray backward(INDArray x, INDArray phi, INDArray gradPhi, Role role) {
    Checks.notNull("role", role);
    INDArray xs = scaledRows(x); // (rows, d)
    long rows = xs.size(0);
    Checks.rank3("phi", phi, x.size(0), x.size(1), m);
    Checks.rank3("gradPhi", gradPhi, x.size(0), x.size(1), m);
    Checks.sameType(x, phi, gradPhi);
    INDArray phiRows = flatten(phi);
    // e_i = exp(u_i − c), recovered from φ = m^(-1/2)·(e + ε)
    INDArray e = phiRows.div(outputScale).subi(epsilonFor(role));
    INDArray gradU = flatten(gradPhi).mul(e).muli(outputScale); // ∂L/∂u_i through e_i
    if (role == Role.QUERY) {
      // c = u_argmax: ∂L/∂u_argmax −= Σ_i ∂L/∂e_i · e_i
      INDArray isMax = phiRows.subColumnVector(phiRows.max(true, 1)).eq(0.0).castTo(x.dataType());
      INDArray gradC = gradU.sum(true, 1).negi(); // (rows, 1)
      gradU.addi(isMax.muliColumnVector(gradC));
    }
    // ∂u_i/∂x̃ = w_i − x̃  ⇒  ∂L/∂x̃ = gradU·W − (Σ_i gradU_i)·x̃
    INDArray gradXs = Nd4j.createUninitialized(x.dataType(), new long[] {rows, d}, 'c');
    Nd4j.gemm(gradU, projectionTransposed(x.dataType()), gradXs, false, true, 1, 0);
    gradXs.subi(xs.muliColumnVector(gradU.sum(true, 1)));
    return unflatten(gradXs.muli(inputScale), x, d);
  }

  @Override
  public void apply(float[] x, int xOffset, float[] out, int outOffset, Role role,
      FloatKernels kernels) {
    checkOne(x, xOffset, out, outOffset);
    Checks.notNull("role", role);
    float halfSquaredNorm = 0.5f * projectOne(x, xOffset, out, outOffset, kernels);
    float c = role == Role.QUERY
        ? kernels.maxMinus(out, outOffset, m, halfSquaredNorm) // per-row max: cancels
        : (float) keyShift;
    kernels.expFeatures(out, outOffset, m, halfSquaredNorm, c, epsilonFor(role), outputScale);
  }

  @Override
  public String toString() {
    return "SoftmaxKernelFeatureMap[" + projection + ", ε=" + epsilon + ", c_k=" + keyShift + "]";
  }
}
