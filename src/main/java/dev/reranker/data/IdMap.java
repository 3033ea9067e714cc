package dev.reranker.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * External ids (the product's strings) ↔ dense indices 0 … size−1 (rows of an embedding). Indices
 * follow insertion order, so a map built from the same data is the same map. Immutable once built.
 */
public final class IdMap {

  private final List<String> ids;
  private final Map<String, Integer> index;

  private IdMap(List<String> ids) {
    this.ids = Collections.unmodifiableList(ids);
    this.index = new HashMap<>(ids.size() * 2);
    for (int i = 0; i < ids.size(); i++) {
      if (index.put(ids.get(i), i) != null) {
        throw new IllegalArgumentException("duplicate id '" + ids.get(i) + "'");
      }
    }
  }

  /** A map over ids in index order; refuses duplicates. */
  public static IdMap of(List<String> ids) {
    return new IdMap(new ArrayList<>(ids));
  }

  /** The index of an id, or −1 if unknown. */
  public int indexOf(String id) {
    Integer i = index.get(id);
    return i == null ? -1 : i;
  }

  public String id(int index) {
    return ids.get(index);
  }

  public int size() {
    return ids.size();
  }

  /** The ids in index order (unmodifiable). */
  public List<String> ids() {
    return ids;
  }

  /** Collects ids in first-seen order. */
  public static final class Builder {
    private final List<String> ids = new ArrayList<>();
    private final Map<String, Integer> index = new HashMap<>();

    /** The index of the id, adding it if new. */
    public int add(String id) {
      Integer i = index.get(id);
      if (i != null) {
        return i;
      }
      index.put(id, ids.size());
      ids.add(id);
      return ids.size() - 1;
    }

    public IdMap build() {
      return new IdMap(ids);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdMap m && m.ids.equals(ids);
  }

  @Override
  public int hashCode() {
    return ids.hashCode();
  }
}
