"""A small SAM template exercising what the local stack reads, and a model built from it."""

from __future__ import annotations

from pathlib import Path

from local_stack.cfn import Resolver, StackIdentity, load_template
from local_stack.sam import AppModel, build_model, parameter_values, physical_names

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Ttl:
    Type: Number
    Default: 300
  Stage:
    Type: String
    Default: prod
    AllowedValues: [prod, dev]
  Scopes:
    Type: String
    Default: ""
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
    Timeout: 3
    Layers: [!Ref Layer]
    Environment:
      Variables:
        SHARED: !Sub "${AWS::StackName}-${Stage}"
        TABLE: !Ref Table
        AWS_ENDPOINT_URL: ""
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: subject, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: BySubject
          KeySchema:
            - {AttributeName: subject, KeyType: HASH}
            - {AttributeName: pk, KeyType: RANGE}
          Projection: {ProjectionType: ALL}
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Description: keys
      SecretString: '{"keys":[]}'
  Generated:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "${AWS::StackName}/generated"
      GenerateSecretString:
        SecretStringTemplate: '{"user":"admin"}'
        GenerateStringKey: password
        PasswordLength: 20
        ExcludePunctuation: true
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: !Ref AuthFn.Alias
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
              Context: [routeKey]
              ReauthorizeEvery: !Ref Ttl
          Policy:
            FunctionArn: !GetAtt AuthFn.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            Identity:
              Headers: [X-Api-Key]
  AuthFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      AutoPublishAlias: live
  Backend:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.other
      Timeout: 7
      Environment:
        Variables:
          SHARED: own
          SECRET: !Ref Secret
          MODE: !If [IsProd, production, !Ref AWS::NoValue]
          ARN: !GetAtt Table.Arn
          JOINED: !Join ["/", [!Select [1, !Split [",", "a,b,c"]], !Ref AWS::Region]]
          LITERAL: !Sub "${!NotAVar}"
          SCOPES: !Ref Scopes
          API_URL: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/base"
      Events:
        Public:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /public, Auth: {Authorizer: NONE}}
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: "/items/{id}"}
        ItemExact:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /items/special, Auth: {Authorizer: NONE}}
        Files:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: ANY, Path: "/files/{proxy+}", Auth: {Authorizer: Policy}}
        Form:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: POST, Path: /form, Auth: {Authorizer: NONE}}
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
      RotationLambdaARN: !GetAtt AuthFn.Arn
      RotationRules:
        AutomaticallyAfterDays: 30
"""


def make_model(tmp_path: Path, text: str = TEMPLATE, params: dict[str, str] | None = None) -> AppModel:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    (tmp_path / "fn").mkdir(exist_ok=True)
    (tmp_path / "layer").mkdir(exist_ok=True)
    template = load_template(path)
    identity = StackIdentity()
    resolver = Resolver(template, parameter_values(template, params or {}), identity)
    resolver.refs.update(physical_names(template, identity, resolver))
    return build_model(template, resolver)
