package dev.reranker.model;

import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;

/**
 * ND4J workspace settings of the batched passes (training steps, evaluation, batched folds).
 * Touching fresh native memory is slow on these machines, so each pass runs in an arena that is
 * reused: sized by the first passes, grown when a longer pass needs more (spills reallocated), and
 * reset after each pass.
 */
public final class Workspaces {
  private Workspaces() {}

  /** A reused arena per pass, learnt over the first two passes, 30 % headroom. */
  public static final WorkspaceConfiguration PER_PASS = WorkspaceConfiguration.builder()
      .initialSize(0)
      .policyAllocation(AllocationPolicy.OVERALLOCATE)
      .overallocationLimit(0.3)
      .policyLearning(LearningPolicy.OVER_TIME)
      .cyclesBeforeInitialization(2)
      .policySpill(SpillPolicy.REALLOCATE)
      .build();
}
