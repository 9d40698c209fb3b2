// resumeLink: the Apollo Client side of resume.mjs (see there for why).
import { ApolloLink } from '@apollo/client';
import { map } from 'rxjs';
import { resumeVariables } from './resume.mjs';

// resumeLink goes in front of GraphQLWsLink (or any link that serializes
// the operation's variables each time it sends them): a subscription that
// declares $after resumes, on each retry, after the last event it
// delivered.
export function resumeLink() {
  return new ApolloLink((operation, forward) => {
    if (operation.operationType !== 'subscription' || !declares(operation.query, 'after')) return forward(operation);
    const { after, ...extra } = operation.variables;
    const resume = resumeVariables(after, extra);
    operation.variables = resume.variables;
    return forward(operation).pipe(map((result) => resume.seen(result)));
  });
}

function declares(document, name) {
  return document.definitions.some(
    (d) => d.kind === 'OperationDefinition' && d.variableDefinitions?.some((v) => v.variable.name.value === name),
  );
}
