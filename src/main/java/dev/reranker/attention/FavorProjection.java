package dev.reranker.attention;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The random projection W (m × d) of FAVOR+: the m feature directions w_i.
 *
 * <p>Drawn once from a seed and then a <b>fixed model parameter</b>: it is saved with the model and
 * never redrawn at inference. Every cached per-user FAVOR+ state (S = Σ φ(k) vᵀ, z = Σ φ(k)) is a
 * sum of features computed with this W; redrawing it would silently invalidate all of them.
 *
 * <p>Orthogonal random features (Choromanski et al. 2021, §2.4 and Thm. 2): ⌊m/d⌋ blocks, each the
 * d orthonormal rows of a Gram–Schmidt (QR) orthogonalised d × d Gaussian matrix, plus a partial
 * block of the first m mod d rows of one more. Orthonormal rows are then rescaled:
 * <ul>
 *   <li>{@link RowNorms#CHI}: each row gets the length of a fresh Gaussian d-vector, i.e. a
 *       χ(d)-distributed norm. Each row is then marginally N(0, I_d), which keeps the softmax-kernel
 *       estimator unbiased.</li>
 *   <li>{@link RowNorms#SQRT_D}: every row gets length √d (the paper's "regularized" variant; lower
 *       variance, slightly biased).</li>
 * </ul>
 * {@link Sampling#IID} draws plain independent Gaussian rows instead (for comparison only).
 *
 * <p>Immutable and thread-safe.
 */
public final class FavorProjection {

  /** How rows are drawn. */
  public enum Sampling {
    /** Blocks of orthogonal rows (lower variance, the default). */
    ORTHOGONAL,
    /** Independent Gaussian rows (the unstructured baseline of the paper's Fig. 4). */
    IID
  }

  /** How row lengths are set. */
  public enum RowNorms {
    /** χ(d)-distributed lengths: the unbiased estimator (default). */
    CHI,
    /** Every row has length √d. */
    SQRT_D
  }

  private static final int FORMAT_MAGIC = 0x46415650; // "FAVP"
  private static final int FORMAT_VERSION = 1;

  private final int features; // m
  private final int dim; // d
  private final float[] w; // (feature, dim), row-major
  private final Sampling sampling;
  private final RowNorms rowNorms;
  private final long seed;

  private FavorProjection(int features, int dim, float[] w, Sampling sampling, RowNorms rowNorms,
      long seed) {
    this.features = features;
    this.dim = dim;
    this.w = w;
    this.sampling = sampling;
    this.rowNorms = rowNorms;
    this.seed = seed;
  }

  /** Orthogonal features with χ(d) row norms: the default, unbiased FAVOR+ projection. */
  public static FavorProjection orthogonal(int features, int dim, long seed) {
    return draw(features, dim, seed, Sampling.ORTHOGONAL, RowNorms.CHI);
  }

  /**
   * Draws a projection.
   *
   * @param features m ≥ 1, the number of random features
   * @param dim d ≥ 1, the dimension of the queries and keys it projects
   * @param seed the seed; the same arguments always give the same matrix, bit for bit
   * @throws IllegalArgumentException if m or d is below 1, or an enum is null
   */
  public static FavorProjection draw(int features, int dim, long seed, Sampling sampling,
      RowNorms rowNorms) {
    Checks.positive("features (m)", features);
    Checks.positive("dim (d)", dim);
    Checks.notNull("sampling", sampling);
    Checks.notNull("rowNorms", rowNorms);
    GaussianSampler gaussian = new GaussianSampler(seed);
    double[][] rows = new double[features][];
    if (sampling == Sampling.IID) {
      for (int i = 0; i < features; i++) {
        rows[i] = gaussianVector(gaussian, dim);
      }
    } else {
      for (int start = 0; start < features; start += dim) {
        double[][] block = orthonormalBlock(gaussian, dim);
        for (int r = 0; r < dim && start + r < features; r++) {
          rows[start + r] = block[r];
        }
      }
    }
    float[] w = new float[features * dim];
    for (int i = 0; i < features; i++) {
      double length;
      if (rowNorms == RowNorms.SQRT_D) {
        length = StrictMath.sqrt(dim);
      } else if (sampling == Sampling.IID) {
        length = norm(rows[i]); // already χ(d)-distributed: keep it
      } else {
        length = norm(gaussianVector(gaussian, dim));
      }
      double scale = length / norm(rows[i]);
      for (int j = 0; j < dim; j++) {
        w[i * dim + j] = (float) (rows[i][j] * scale);
      }
    }
    return new FavorProjection(features, dim, w, sampling, rowNorms, seed);
  }

  /**
   * Wraps a saved matrix (for loading a model). {@code weights} is (m, d) row-major and is copied.
   */
  public static FavorProjection fromWeights(int features, int dim, float[] weights,
      Sampling sampling, RowNorms rowNorms, long seed) {
    Checks.positive("features (m)", features);
    Checks.positive("dim (d)", dim);
    Checks.notNull("weights", weights);
    Checks.notNull("sampling", sampling);
    Checks.notNull("rowNorms", rowNorms);
    if (weights.length != (long) features * dim) {
      throw new IllegalArgumentException("weights must hold m*d = " + features + "*" + dim + " = "
          + (long) features * dim + " floats, got " + weights.length);
    }
    for (float x : weights) {
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException("weights contain a non-finite value: " + x);
      }
    }
    return new FavorProjection(features, dim, weights.clone(), sampling, rowNorms, seed);
  }

  /** Modified Gram–Schmidt on the rows of a d × d Gaussian matrix: the rows of Qᵀ in G = QR. */
  private static double[][] orthonormalBlock(GaussianSampler gaussian, int dim) {
    double[][] g = new double[dim][];
    for (int r = 0; r < dim; r++) {
      g[r] = gaussianVector(gaussian, dim);
    }
    for (int r = 0; r < dim; r++) {
      for (int p = 0; p < r; p++) {
        double dot = 0;
        for (int j = 0; j < dim; j++) {
          dot += g[r][j] * g[p][j];
        }
        for (int j = 0; j < dim; j++) {
          g[r][j] -= dot * g[p][j];
        }
      }
      double n = norm(g[r]);
      for (int j = 0; j < dim; j++) {
        g[r][j] /= n;
      }
    }
    return g;
  }

  private static double[] gaussianVector(GaussianSampler gaussian, int dim) {
    double[] v = new double[dim];
    for (int j = 0; j < dim; j++) {
      v[j] = gaussian.next();
    }
    return v;
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return StrictMath.sqrt(s);
  }

  /** m, the number of random features. */
  public int features() {
    return features;
  }

  /** d, the dimension of the vectors projected. */
  public int dim() {
    return dim;
  }

  public Sampling sampling() {
    return sampling;
  }

  public RowNorms rowNorms() {
    return rowNorms;
  }

  /** The seed it was drawn from (provenance; loading never redraws). */
  public long seed() {
    return seed;
  }

  /** A copy of W, (m, d) row-major. */
  public float[] weights() {
    return w.clone();
  }

  /** W's entry (i, j) = w_i[j]. */
  public float weight(int feature, int j) {
    return w[feature * dim + j];
  }

  /** max_i ‖w_i‖² / 2: the largest value w_iᵀx − ‖x‖²/2 can take for any x (at x = w_i). */
  public double maxHalfSquaredRowNorm() {
    double max = 0;
    for (int i = 0; i < features; i++) {
      double s = 0;
      for (int j = 0; j < dim; j++) {
        double x = w[i * dim + j];
        s += x * x;
      }
      max = Math.max(max, s / 2);
    }
    return max;
  }

  /** Wᵀ as a new (d, m) array of the given type: {@code x Wᵀ} projects the rows of x. */
  public INDArray transposed(DataType type) {
    INDArray out = Nd4j.create(type, dim, features);
    for (int i = 0; i < features; i++) {
      for (int j = 0; j < dim; j++) {
        out.putScalar(j, i, w[i * dim + j]);
      }
    }
    return out;
  }

  /** Writes a versioned binary form: magic, version, m, d, sampling, norms, seed, W. */
  public void writeTo(DataOutput out) throws IOException {
    out.writeInt(FORMAT_MAGIC);
    out.writeInt(FORMAT_VERSION);
    out.writeInt(features);
    out.writeInt(dim);
    out.writeByte(sampling.ordinal());
    out.writeByte(rowNorms.ordinal());
    out.writeLong(seed);
    for (float x : w) {
      out.writeFloat(x);
    }
  }

  /** Reads what {@link #writeTo} wrote; refuses other formats and versions with a clear message. */
  public static FavorProjection readFrom(DataInput in) throws IOException {
    int magic = in.readInt();
    if (magic != FORMAT_MAGIC) {
      throw new IOException("not a FAVOR+ projection (bad magic 0x" + Integer.toHexString(magic)
          + ")");
    }
    int version = in.readInt();
    if (version != FORMAT_VERSION) {
      throw new IOException("unsupported FAVOR+ projection format version " + version
          + " (this build reads " + FORMAT_VERSION + ")");
    }
    int m = in.readInt();
    int d = in.readInt();
    if (m < 1 || d < 1 || (long) m * d > (1 << 28)) {
      throw new IOException("corrupt FAVOR+ projection header: m=" + m + ", d=" + d);
    }
    int samplingOrdinal = in.readUnsignedByte();
    int normsOrdinal = in.readUnsignedByte();
    if (samplingOrdinal >= Sampling.values().length || normsOrdinal >= RowNorms.values().length) {
      throw new IOException("corrupt FAVOR+ projection header: unknown sampling/norms code");
    }
    long seed = in.readLong();
    float[] w = new float[m * d];
    for (int i = 0; i < w.length; i++) {
      w[i] = in.readFloat();
    }
    return fromWeights(m, d, w, Sampling.values()[samplingOrdinal],
        RowNorms.values()[normsOrdinal], seed);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FavorProjection p && p.features == features && p.dim == dim
        && p.sampling == sampling && p.rowNorms == rowNorms && p.seed == seed
        && Arrays.equals(p.w, w);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(w) + Long.hashCode(seed);
  }

  @Override
  public String toString() {
    return "FavorProjection[m=" + features + ", d=" + dim + ", " + sampling + ", " + rowNorms
        + ", seed=" + seed + "]";
  }
}
