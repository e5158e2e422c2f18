import { validateDocumentInputs } from '../../dag/graph/inputs.js';
import { compileProject, type CompiledProject } from '../../dag/graph/compile.js';
import { Diagnostics, type Diagnostic } from '../../dag/project/diagnostics.js';
import { loadProject, type Project } from '../../dag/contracts/project.js';

/** Load, compile and check input files through the library, in the phases `dag validate` runs them. */
export function diagnose(root: string): { project?: Project; cp?: CompiledProject; items: Diagnostic[] } {
  const diags = new Diagnostics();
  const project = loadProject(root, diags);
  const cp = project ? compileProject(project, diags) : undefined;
  if (cp && diags.ok) validateDocumentInputs(cp, diags);
  return { project, cp, items: diags.items };
}

/** Compiles a project that must be valid. */
export function compileClean(root: string): CompiledProject {
  const { cp, items } = diagnose(root);
  if (!cp || items.length > 0) throw new Error(`${root} should compile cleanly:\n${JSON.stringify(items, null, 2)}`);
  return cp;
}
